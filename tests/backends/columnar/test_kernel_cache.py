"""The kernel's cache and its compile notice (engine/backends/columnar/kernel/cache.py)."""

import logging
import re
from pathlib import Path

from engine.backends.columnar.kernel import cache
from engine.cli import common

KERNEL = Path(cache.__file__).parent


def test_every_module_with_compiled_code_keys_the_cache():
    """numba checks a cached function against its own file only; the kernel's functions call
    across modules, so every such module must be in the cache's key (else an edit there leaves a
    stale caller in the cache)."""
    compiled = {p.name for p in KERNEL.glob("*.py") if re.search(r"^@jit\(", p.read_text(), re.M)}
    assert compiled == {"validation.py", "buffers.py", "interpreter.py"}
    assert compiled <= set(cache.COMPILED_FROM)
    for name in cache.COMPILED_FROM:  # (and every name is a file: _key reads them all)
        assert (KERNEL / name).is_file()


def test_the_cache_folder_is_writable_and_named_by_the_key():
    assert cache.CACHE_DIR is not None and cache.CACHE_DIR.name == f"kernel-{cache.KEY}"
    assert cache.writable(cache.CACHE_DIR)


def test_a_folder_that_cannot_be_written_is_passed_over(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")  # a folder under a file cannot be made, whoever runs the test
    monkeypatch.setattr(cache, "HERE", blocker)
    monkeypatch.setattr(cache, "user_cache_dir", lambda: tmp_path / "home-cache")
    monkeypatch.setattr(cache.nb_config, "CACHE_DIR", "")
    assert cache.choose_folder() == tmp_path / "home-cache" / "shuangtan" / f"kernel-{cache.KEY}"
    monkeypatch.setattr(cache, "user_cache_dir", lambda: blocker)
    assert cache.choose_folder() is None
    monkeypatch.setattr(cache.nb_config, "CACHE_DIR", str(tmp_path / "numba"))  # the user's choice wins
    assert cache.choose_folder() == tmp_path / "numba" / "shuangtan" / f"kernel-{cache.KEY}"


def test_the_command_line_shows_the_library_notes_on_a_terminal_only(monkeypatch, capsys):
    log = logging.getLogger("engine")
    before = list(log.handlers)
    try:
        monkeypatch.setattr(common, "progress_wanted", lambda: False)
        common.show_library_notes()
        assert log.handlers == before
        monkeypatch.setattr(common, "progress_wanted", lambda: True)
        common.show_library_notes()
        common.show_library_notes()  # (once, however often the group runs)
        assert len(log.handlers) == len(before) + 1
        cache.LOG.info(cache.COMPILING)
        assert capsys.readouterr().err == cache.COMPILING + "\n"
    finally:
        for h in log.handlers[len(before) :]:
            log.removeHandler(h)
        log.setLevel(logging.NOTSET)
