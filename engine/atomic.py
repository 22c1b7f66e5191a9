"""Output files that appear whole or not at all.

Every output (decisions, rejects, exports, populations, simulation reports, notices) is written
to a temporary file in the same folder, flushed to disk, then renamed over its name: a run that
is killed, runs out of disk or fails leaves the previous file untouched (or none), never a
truncated file that parses cleanly. The temporary file is hidden and named ``.NAME.part-XXXX``
so that even a ``kill -9`` leftover cannot pass for a finished output. A set of files (a
simulation's report, a cluster run's parts) is written to a hidden folder the same way.

An output that is a symbolic link is replaced by the new file; its target is never written.
An output that exists and is not a regular file (``/dev/stdout``, ``/dev/null``, a FIFO) is
written in place: there is no file to protect and nothing can be renamed over a device.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from engine.errors import OutputError


def _in_place(path: Path) -> bool:
    """True for an existing output that is not a regular file (a device, a FIFO)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # absent (or a dangling link): a new file takes its name


def _mode_for(path: Path) -> int:
    """The permissions ``open(path, "w")`` would leave: the existing file's, else 0o666 less the umask."""
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    return -1  # the umask applies: os.open with 0o666 does it


def _new_part(path: Path) -> Path:
    """Create (exclusively) the hidden temporary file beside ``path``; same suffix, so that
    writers choosing a format by the file name choose the same one."""
    folder = path.parent
    for _ in range(100):
        tmp = folder / f".{path.stem}.part-{secrets.token_hex(4)}{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(path, _problem(exc)) from None
        mode = _mode_for(path)
        if mode >= 0:
            os.fchmod(fd, mode)
        os.close(fd)
        return tmp
    raise OutputError(path, "cannot create a temporary file beside it")  # pragma: no cover


def _sync_file(tmp: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot fsync a folder (ignored)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _problem(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _as_output_error(exc: OSError, path: Path, tmp: Path) -> OSError | OutputError:
    """An error naming the temporary file is about the output: say so with the output's name
    (one naming no file is left for the caller to place: ``engine.cli.common.writing``)."""
    if exc.filename is not None and Path(exc.filename) == tmp:
        return OutputError(path, _problem(exc))
    return exc


def commit(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``path`` (a link at ``path`` is replaced, not followed)."""
    try:
        _sync_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(path, _problem(exc)) from None
    _sync_folder(path.parent)


@contextlib.contextmanager
def replacing(path) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to (for writers that take a path, such as
    Polars'); on success it is synced and renamed over ``path``, on any failure removed."""
    path = Path(path)
    if _in_place(path):
        yield path
        return
    tmp = _new_part(path)
    try:
        yield tmp
    except OutputError as exc:
        tmp.unlink(missing_ok=True)
        if Path(exc.path) == tmp:
            raise OutputError(path, exc.problem) from None
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        mapped = _as_output_error(exc, path, tmp)
        if mapped is exc:
            raise
        raise mapped from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # gone already when the rename succeeded


@contextlib.contextmanager
def open_replacing(
    path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` whose content replaces ``path`` only when the block completes."""
    path = Path(path)
    if "b" in mode:
        encoding = newline = None
    if _in_place(path):
        try:
            fh = open(path, mode, encoding=encoding, newline=newline)
        except OSError as exc:
            raise OutputError(path, _problem(exc)) from None
        with _closing(fh, path):
            yield fh
        return
    with replacing(path) as tmp:
        with _closing(open(tmp, mode, encoding=encoding, newline=newline), path) as fh:
            yield fh


@contextlib.contextmanager
def _closing(fh, path: Path):
    try:
        yield fh
    except BaseException:
        with contextlib.suppress(OSError):
            fh.close()
        raise
    try:
        fh.close()  # the last buffer goes out here: a full disk shows now, named
    except OSError as exc:
        raise OutputError(path, _problem(exc)) from None


def write_bytes_replacing(path, data: bytes) -> None:
    with open_replacing(path, "wb") as fh:
        try:
            fh.write(data)
        except OSError as exc:
            raise OutputError(path, _problem(exc)) from None


@contextlib.contextmanager
def replacing_folder(folder, last: str | None = None) -> Iterator[Path]:
    """A hidden temporary folder inside ``folder`` to write a set of files to; on success each
    file is synced and renamed into ``folder`` (``last`` after all the others: the file that
    says the set is complete), on failure the temporary folder is removed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".part-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        yield tmp
        names = sorted(p.name for p in tmp.iterdir())
        if last in names:
            names.remove(last)
            names.append(last)
        for name in names:
            _sync_file(tmp / name)
        for name in names:
            os.replace(tmp / name, folder / name)
        _sync_folder(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _new_folder(parent: Path, prefix: str, output: Path) -> Path:
    """Create (exclusively) a hidden temporary folder in ``parent``; a failure names ``output``."""
    for _ in range(100):
        tmp = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(output, _problem(exc)) from None
        return tmp
    raise OutputError(output, "cannot create a temporary folder for it")  # pragma: no cover


@contextlib.contextmanager
def replacing_parts(folder, pattern: str) -> Iterator[Path]:
    """A hidden temporary folder to write the parts of one output to (``part-00000.parquet``…,
    each named by ``pattern``), which become ``folder``'s parts only when the block completes.

    A ``folder`` that does not exist appears whole: the temporary folder is made beside it and
    renamed to it. An existing one keeps its previous parts until then; the new ones are then
    renamed into it and the previous parts the new set does not have removed (its other files
    are left alone). On any failure the temporary folder is removed and ``folder`` is untouched."""
    folder = Path(folder)
    fresh = not folder.exists()
    if fresh:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(folder, _problem(exc)) from None
        tmp = _new_folder(folder.parent, f".{folder.name}.part-", folder)
    else:
        tmp = _new_folder(folder, ".part-", folder)
    try:
        yield tmp
        names = sorted(p.name for p in tmp.iterdir())
        try:
            for name in names:
                _sync_file(tmp / name)
            if fresh:
                _sync_folder(tmp)
                os.rename(tmp, folder)
                _sync_folder(folder.parent)
                return
            stale = [p for p in folder.glob(pattern) if p.name not in names and p.is_file()]
            for name in names:
                os.replace(tmp / name, folder / name)
            for p in stale:
                p.unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(folder, _problem(exc)) from None
        _sync_folder(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
