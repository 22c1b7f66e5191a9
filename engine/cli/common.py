"""Options and error handling shared by every command."""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from engine.contract.bounds import read_bounded
from engine.errors import (
    INTERNAL_ERROR,
    AccountRefused,
    DateNotCoveredError,
    EngineError,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    OutputError,
    ReviewError,
    RulebookError,
    ShuangtanError,
    UnreadableInputError,
    internal_reason,
    spoken,
)
from engine.i18n import language, t

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class InputError(click.ClickException):
    """Bad input: exit 2 like click's UsageError, with every offending field listed."""

    exit_code = 2


#: --rules DIR: every command that reads the rulebook, alone (simulate) or with --reform.
rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="SHUANGTAN_RULES",
    help="Rulebook folder (default: the bundled rules/).",
)


#: --partial: check, evaluate and explain an application whose missing fields are unknown.
partial_option = click.option(
    "--partial",
    is_flag=True,
    help="A field left out is unknown (never zero, never a default): outcomes no value of it could "
    "change are settled, the others undetermined, with the fields they need (docs/contract.md).",
)


def rulebook_options(fn):
    """--rules DIR and --reform FILE (repeatable) for every command that evaluates."""

    @rules_option
    @click.option(
        "--reform",
        "reforms",
        multiple=True,
        type=ReformPath(),
        help="Apply a reform on top of the rulebook: a file, or the name of a bundled reform "
        "(shuangtan rules reforms); repeatable, in order.",
    )
    @functools.wraps(fn)
    def wrapper(*args, rules_dir=None, reforms=(), **kwargs):
        return fn(*args, book=load_book(rules_dir, reforms), **kwargs)

    return wrapper


class ReformPath(click.Path):
    """A reform file, or the name of a reform bundled with the rulebook (``shuangtan rules
    reforms``), so that an installed shuangtan can run one without knowing where it lives. A file
    of that name in the working folder wins."""

    name = "reform"

    def __init__(self) -> None:
        super().__init__(dir_okay=False, exists=True, path_type=Path)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not os.path.exists(value) and "/" not in value and os.sep not in value:
            from engine.resources import bundled_reforms

            known = bundled_reforms()
            if value.removesuffix(".yaml") in known:
                return known[value.removesuffix(".yaml")]
            self.fail(
                f"{value!r} is neither a file nor a bundled reform (bundled: {', '.join(known) or 'none'})",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


def load_book(rules_dir=None, reforms=()):
    from engine.rulebook.loader import load_rulebook

    try:
        loaded = []
        if reforms:
            from engine.rulebook.reforms import load_reform  # the drafters' module

            loaded = [load_reform(p) for p in reforms]
        return load_rulebook(rules_dir, loaded)
    except RulebookError as exc:
        raise click.ClickException(rulebook_problem(exc)) from None


def invalid_application(errors) -> str:
    """Every problem of an application, one a line: the field's label, its path, the problem."""
    from engine.i18n.problems import problem_line

    lines = "\n".join(f"  {problem_line(path, msg)}" for path, msg in errors)
    key = "errors.invalid_application_one" if len(errors) == 1 else "errors.invalid_application"
    return t(key, n=len(errors)) + "\n" + lines


def rulebook_problem(exc: RulebookError) -> str:
    """A rule file's problem: where (file, key) and what, in the language in force."""
    from engine.i18n.problems import rulebook_error

    return t("errors.rulebook", problem=rulebook_error(exc))


def domain_errors(fn):
    """Turn the library's errors into clean CLI errors (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with clean_errors():
            result = fn(*args, **kwargs)
            flush_stdout()
            return result

    return wrapper


@contextlib.contextmanager
def clean_errors() -> Iterator[None]:
    """The library's errors as clean CLI errors, anything unexpected as the one-line internal
    error. Used by ``domain_errors`` around a command and by the command group around every
    command (engine/cli/__init__.py), so that no command, wrapped or not, shows a traceback.
    click's own exceptions, SystemExit and a missing extra's ModuleNotFoundError pass through."""
    try:
        yield
    except InvalidApplicationError as exc:
        raise InputError(invalid_application(exc.errors)) from None
    except DateNotCoveredError as exc:
        raise InputError(str(exc)) from None
    except InvalidTelemetryError as exc:
        raise InputError(telemetry_problems(exc)) from None
    except MeteringError as exc:
        from engine.telemetry.wording import metering

        raise InputError(metering(exc)) from None
    except UnreadableInputError as exc:
        raise InputError(unreadable(exc)) from None
    except (AccountRefused, ReviewError) as exc:
        raise InputError(exc.said()) from None  # who acts, or how: the caller's to fix, like a bad option
    except RulebookError as exc:
        raise click.ClickException(rulebook_problem(exc)) from None
    except EngineError as exc:
        raise click.ClickException(t("errors.engine", problem=exc)) from None
    except ShuangtanError as exc:
        raise click.ClickException(spoken(exc)) from None
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except ModuleNotFoundError:
        raise  # a missing extra: the command group names it in one line (engine/cli/extras.py)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT) and exc.filename is None:
            stdout_failed(exc)  # files are named by ``writing``: what names no file is standard output
        raise click.ClickException(one_line(exc)) from None
    except Exception as exc:
        internal_error(exc)


TRACEBACK_ENV = "SHUANGTAN_TRACEBACK"


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (a file name, an errno), never a traceback."""
    return internal_reason(exc)


def internal_error(exc: Exception):
    """A defect, not the user's input: one line naming it (the traceback with $SHUANGTAN_TRACEBACK=1)."""
    if os.environ.get(TRACEBACK_ENV):
        raise exc
    raise click.ClickException(t("errors.internal", code=INTERNAL_ERROR, problem=internal_reason(exc))) from None


def flush_stdout() -> None:
    """Flush standard output now, while a full disk or a closed pipe can still be reported in
    one line (at interpreter exit it would be a traceback-like 'Exception ignored')."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        stdout_failed(exc)


def stdout_failed(exc: OSError):
    # Nothing more can go to this stdout: point it at /dev/null so the exit flush is silent.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if exc.errno == errno.EPIPE:  # the reader stopped reading (`| head`): said by no one, as `cat` does
        sys.exit(1)
    raise click.ClickException(t("errors.stdout", problem=system_problem(exc))) from None


def distinct_files(paths: dict) -> None:
    """Refuse (exit 2, naming both options) two of ``paths`` (option -> path or None) that are
    one file: through a symbolic link, a hard link or another spelling. Devices such as
    /dev/null are shared freely; standard streams ("-") are not files."""
    given = [(opt, Path(p)) for opt, p in paths.items() if p is not None and str(p) != "-"]
    for i, (opt_a, a) in enumerate(given):
        for opt_b, b in given[i + 1 :]:
            if same_file(a, b):
                raise InputError(f"{opt_a} and {opt_b} are the same file ({b}); give different files")


def same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):
            return stat.S_ISREG(os.stat(a).st_mode)
        return False
    except OSError:  # one of them does not exist yet: compare where they would be
        return a.resolve() == b.resolve()


def unreadable(exc: UnreadableInputError) -> str:
    """A file that cannot be read as its format, in the language in force."""
    if language() == "en":
        return str(exc)
    from engine.i18n.problems import problem

    return (
        t("errors.cannot_read", path=exc.source, problem=problem(exc.problem)) if exc.source else problem(exc.problem)
    )


def telemetry_problems(exc: InvalidTelemetryError) -> str:
    from engine.telemetry.wording import problem_lines  # in the language in force

    return problem_lines(exc)


def read_input(path: str) -> bytes:
    """The document's bytes, at most one more than the contract's size limit (so that the
    contract refuses a larger one, and /dev/zero is not read to the end)."""
    if path == "-":
        return read_bounded(sys.stdin.buffer)
    try:
        with open(path, "rb") as fh:
            return read_bounded(fh)
    except OSError as exc:
        raise click.BadParameter(cannot_read(path, exc), param_hint="FILE") from None


def cannot_read(path, exc: OSError) -> str:
    """``cannot read x.json: No such file or directory`` in the language in force."""
    name = errno.errorcode.get(exc.errno or 0, "")
    known = f"errors.os.{name.lower()}"
    from engine.i18n import message

    why = t(known) if message(known) is not None else (exc.strerror or str(exc))
    return t("errors.cannot_read", path=path, problem=why)


def progress_wanted() -> bool:
    return sys.stderr.isatty()


def show_library_notes() -> None:
    """The library's notes to a waiting user (the columnar kernel compiling, a minute on its
    first run) as lines on stderr when it is a terminal; the library itself prints nothing."""
    log = logging.getLogger("engine")
    if progress_wanted() and not any(getattr(h, "shuangtan_notes", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.shuangtan_notes = True  # type: ignore[attr-defined]  # (marks ours: added once)
        log.addHandler(handler)
        log.setLevel(logging.INFO)


# --- output files and folders ------------------------------------------------------------
# Checked before any application is decided (when the option is parsed, or where a file or a
# folder depends on another option, first thing in the command): a missing folder or a folder
# in the way is the user's to fix, said in one line naming the option, not a traceback at the
# end of the run. ``writing`` reports the same way what only shows when writing.
def _existing_ancestor(path: Path) -> Path:
    """``path`` itself or its nearest ancestor that exists."""
    for p in (path, *path.parents):
        if p.exists():
            return p
    return Path(path.anchor)


def output_problem(path, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written as an output file (or, ``folder``, an output folder that is
    created with its parents when missing); None when it can, as far as can be told up front
    (root may write anywhere on paper; what still fails when writing is for ``writing``)."""
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            return f"{path} is a file, not a folder"
        if not folder and path.is_dir():
            return f"{path} is a directory, not a file"
        if not os.access(path, os.W_OK | (os.X_OK if folder else 0)):
            return f"{path} is not writable"
        return None
    what = "create folder" if folder else "write"
    parent = path.absolute().parent
    above = _existing_ancestor(parent)
    if not above.is_dir():
        return f"cannot {what} {path}: {above} is not a directory"
    if not folder and above != parent:
        return f"cannot {what} {path}: directory {path.parent} does not exist"
    if not os.access(above, os.W_OK | os.X_OK):
        return f"cannot {what} {path}: directory {above} is not writable"
    return None


def check_output(path, param_hint: str, folder: bool = False) -> None:
    """BadParameter (exit 2) naming the option and the path when ``path`` cannot be written."""
    problem = output_problem(path, folder)
    if problem:
        raise _bad_output(problem, param_hint)


def _bad_output(problem: str, param_hint: str) -> click.BadParameter:
    """BadParameter on the command's own option when it has one by that name, so the message
    reads as when click checks the option itself (Invalid value for '--out': …)."""
    ctx = click.get_current_context(silent=True)
    param = next((p for p in ctx.command.params if param_hint in getattr(p, "opts", ())), None) if ctx else None
    return click.BadParameter(problem, ctx=ctx, param=param, param_hint=None if param else param_hint)


class OutputPath(click.Path):
    """An output file (or ``folder=True``: a folder, created when missing) that can be written:
    "Invalid value for '--out': directory /tmp/nope does not exist" rather than a traceback."""

    def __init__(self, folder: bool = False, allow_dash: bool = False, path_type=Path):
        super().__init__(readable=False, allow_dash=allow_dash, path_type=path_type)
        self.folder = folder

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        if not (self.allow_dash and str(path) == "-"):
            problem = output_problem(path, self.folder)
            if problem:
                self.fail(problem, param, ctx)
        return path


@contextlib.contextmanager
def writing(path, param_hint: str, others: bool = True):
    """What the up-front check could not foresee (a file system that refuses the file, a disk
    full): the failure to write ``path`` as a BadParameter naming the option, not a traceback.

    An OSError naming a file is taken for this output's only when that file is ``path`` or in
    it; one naming no file (Polars, Arrow) only with ``others``, for code whose file operations
    all concern this output. A file the block created and could not finish is removed.
    """
    path = Path(path)
    existed = path.exists()
    try:
        yield
    except OutputError as exc:
        raise _bad_output(str(exc), param_hint) from None
    except OSError as exc:
        named = Path(exc.filename).absolute() if isinstance(exc.filename, (str, os.PathLike)) else None
        ours = (named == path.absolute() or path.absolute() in named.parents) if named else others
        if not ours:
            raise
        if not existed and path.is_file():
            path.unlink(missing_ok=True)
        where = f" ({named})" if named and named != path.absolute() else ""
        raise _bad_output(f"cannot write {path}: {system_problem(exc)}{where}", param_hint) from None


@contextlib.contextmanager
def output_errors(options: dict):
    """Like ``writing`` for several outputs at once (option -> path or None): a failure to write
    one of them (an OutputError, or an OSError naming it) becomes a BadParameter naming its option."""
    paths = {Path(p).absolute(): opt for opt, p in options.items() if p is not None}
    try:
        yield
    except OutputError as exc:
        opt = paths.get(Path(exc.path).absolute())
        if opt is None:
            raise
        raise _bad_output(str(exc), opt) from None
    except OSError as exc:
        named = Path(exc.filename).absolute() if isinstance(exc.filename, (str, os.PathLike)) else None
        if named not in paths:
            raise
        raise _bad_output(f"cannot write {exc.filename}: {system_problem(exc)}", paths[named]) from None


@contextlib.contextmanager
def terminated_cleanly():
    """SIGTERM ends the command as an exception would (exit 143): outputs in progress are
    removed and worker processes stopped, rather than the process vanishing mid-write."""
    import signal

    def _stop(signum, frame):
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def system_problem(exc: OSError) -> str:
    """What the system said, without the path: Polars gives no errno but '(os error 2)'."""
    if exc.errno:
        return os.strerror(exc.errno)
    code = re.search(r"\(os error (\d+)\)", str(exc))
    return os.strerror(int(code.group(1))) if code else str(exc)


# --- errors in the language in force -------------------------------------------------------
class SaidError(click.ClickException):
    """A click error already worded in the language in force: shown as it is (click's own frame,
    "Error:", "Usage:", "Invalid value for", is English; a Chinese user reads ours)."""

    def __init__(self, text: str, exit_code: int):
        super().__init__(text)
        self.text = text
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it off the instance; each error has its own

    def show(self, file=None) -> None:
        click.echo(self.text, file=file, err=file is None)


@contextlib.contextmanager
def errors_in_language() -> Iterator[None]:
    """Every click error of a command in the language in force (worded while the command's
    language is still in force: it ends with the command's context, before click shows it)."""
    from engine.i18n import language

    try:
        yield
    except SaidError:
        raise
    except click.ClickException as exc:
        if language() == "en":
            raise
        raise SaidError(said(exc), exc.exit_code) from None


def said(exc: click.ClickException) -> str:
    """``exc`` as click would show it, in the language in force."""
    from engine.i18n import t

    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # a group run bare: its help, alone
        return exc.format_message()
    lines = []
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        usage = exc.ctx.get_usage().removeprefix("Usage: ")
        lines.append(t("errors.usage_prefix") + usage)
        if exc.ctx.command.get_help_option(exc.ctx) is not None:
            lines.append(t("errors.try_help", command=exc.ctx.command_path))
        lines.append("")
    message = exc.format_message()
    if isinstance(exc, click.NoSuchOption):
        message = t("errors.no_such_option", option=exc.option_name)
        if exc.possibilities:
            message += t("errors.did_you_mean", options=" / ".join(sorted(exc.possibilities)))
    elif isinstance(exc, click.MissingParameter):
        hint: object = exc.param_hint or (
            exc.param.get_error_hint(exc.ctx) if exc.param is not None and exc.ctx else ""
        )
        if isinstance(hint, (list, tuple)):
            hint = " / ".join(repr(h) for h in hint)
        message = t("errors.missing_option", option=hint)
    elif isinstance(exc, click.BadParameter):
        hint = exc.param_hint
        if hint is None and exc.param is not None:
            hint = exc.param.get_error_hint(exc.ctx) if exc.ctx is not None else exc.param.name
        if isinstance(hint, (list, tuple)):
            hint = " / ".join(repr(h) for h in hint)
        from engine.i18n.problems import click_problem

        problem = click_problem(exc.message)
        message = t("errors.bad_value_for", option=hint, problem=problem) if hint else problem
    lines.append(t("errors.error_prefix") + message)
    return "\n".join(lines)
