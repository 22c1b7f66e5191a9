"""Where the compiled kernel is kept, and a word when it has to be compiled.

numba compiles the kernel once, about a minute, and keeps the machine code on disk
(``cache=True``). Its own cache has two gaps this module closes:

- numba checks a cached function against its own source file only. The kernel's compiled
  functions call each other across modules (interpreter → validation, buffers) and read constants
  from others (the register layout, the opcodes, the credit-code tables), so a change there would
  leave a stale caller in the cache. Every kernel function is therefore cached in one folder named
  after a hash of all of that (``KEY``): a change anywhere gives a new folder, hence a new compile.
- the folder is chosen where this user can write: beside the sources (``__pycache__``, as numba
  does) when that folder is writable, else the platform's user cache folder (an install into a
  read-only site-packages), under ``$NUMBA_CACHE_DIR`` instead when the user set it. With no
  writable folder at all, the kernel is compiled in every process, not cached.

A compile (not a load from the cache) is announced once per process on the logger
``engine.backends.columnar`` at INFO: the library prints nothing; the command line shows it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
from numba.core import config as _numba_config
from numba.core import event

from engine.backends.columnar.inputs import USCC_BYTE_VALUE
from engine.contract.application import USCC_WEIGHTS

# numba makes its settings attributes when it reads the environment: none is declared to mypy
nb_config: Any = _numba_config
LOG = logging.getLogger("engine.backends.columnar")
HERE = Path(__file__).resolve().parent
# the modules with compiled code, and those whose constants the compiled code holds
COMPILED_FROM = ("layout.py", "validation.py", "buffers.py", "interpreter.py", "../opcodes.py")


def _key() -> str:
    h = hashlib.sha256()
    for name in COMPILED_FROM:
        h.update((HERE / name).read_bytes())
    h.update(USCC_BYTE_VALUE.tobytes())
    h.update(np.array(USCC_WEIGHTS, dtype=np.int64).tobytes())
    h.update(f"{sys.version_info[:2]} numba {nb.__version__}".encode())
    return h.hexdigest()[:16]


KEY = _key()


def user_cache_dir() -> Path:
    """The platform's per-user cache folder (XDG on Linux, Library/Caches, LOCALAPPDATA)."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    if sys.platform == "darwin":
        return home / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")


def writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and takes a file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # (as numba checks its own cache folders)
        return True
    except OSError:
        return False


def choose_folder() -> Path | None:
    """The first writable of: under $NUMBA_CACHE_DIR when set; else beside the sources, then the
    user's cache folder. None when none is."""
    if nb_config.CACHE_DIR:  # the user's choice for every numba cache
        bases = [Path(nb_config.CACHE_DIR) / "shuangtan"]
    else:
        bases = [HERE / "__pycache__", user_cache_dir() / "shuangtan"]
    return next((b / f"kernel-{KEY}" for b in bases if writable(b / f"kernel-{KEY}")), None)


#: The folder the kernel is cached in (None: not cached, compiled in every process).
CACHE_DIR = choose_folder()


def jit(**options: Any) -> Callable:
    """``numba.njit`` for the kernel's functions: cached in ``CACHE_DIR``. numba reads its cache
    folder setting when the function is decorated, so it is set for that moment only (other
    numba users in the process keep theirs)."""

    def decorate(fn: Callable) -> Callable:
        if CACHE_DIR is None:
            return nb.njit(**options)(fn)
        saved = nb_config.CACHE_DIR
        nb_config.CACHE_DIR = str(CACHE_DIR)
        try:
            return nb.njit(cache=True, **options)(fn)
        finally:
            nb_config.CACHE_DIR = saved

    return decorate


COMPILING = "compiling the columnar kernel (first run only)…"
COMPILING_UNCACHED = "compiling the columnar kernel (no writable cache folder: once per process)…"


class _Announce(event.Listener):
    """Says once that the kernel is being compiled; numba sends this event only for a compile,
    after it found nothing usable in the cache."""

    def __init__(self) -> None:
        self.said = False

    def on_start(self, ev: Any) -> None:
        fn = getattr(ev.data.get("dispatcher"), "py_func", None)
        if not self.said and getattr(fn, "__module__", "").startswith(__package__ or "-"):
            self.said = True
            LOG.info(COMPILING if CACHE_DIR is not None else COMPILING_UNCACHED)

    def on_end(self, ev: Any) -> None:
        pass


event.register("numba:compile", _Announce())
