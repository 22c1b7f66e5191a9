"""Compile the columnar kernel ahead, at set-up, so that no command pays for it on its first run:

    python -m engine.backends.columnar.warm

It decides a small generated population both ways the commands call the kernel (one rulebook
validating as it decides: evaluate; a population validated once and shared by several
rulebooks: simulate), which compiles every kernel function into the kernel's cache
(kernel/cache.py says where). Run again, it only loads them. Exit status 0 either way; 1 when
the decisions disagree with the Rete engine's (a broken install).
"""

from __future__ import annotations

import logging
import sys
import time

from engine.errors import EngineError


def warm() -> bool:
    """Compile, or load from the cache, every kernel function the commands use, and check the
    warm-up's decisions against the Rete engine. True when something had to be compiled."""
    from engine.backends import decide_frame
    from engine.backends.columnar.frame import as_text, decide_typed, validated
    from engine.backends.columnar.kernel.interpreter import decide_blocks
    from engine.backends.columnar.kernel.validation import validate_all
    from engine.backends.columnar.verify import Generator, disagreements
    from engine.rulebook.loader import load_rulebook

    book = load_rulebook()
    frame = Generator(book, seed=1).frame(3000)
    fused = decide_typed(book, frame)  # one rulebook: the fused pass
    shared = decide_typed(book, frame, validated(frame))  # validated once, shared by rulebooks
    if not shared.equals(fused) or disagreements(decide_frame(book, frame, backend="rete"), as_text(fused)):
        raise EngineError("the columnar kernel's warm-up decisions differ from the Rete engine's")
    return any(sum(f.stats.cache_misses.values()) for f in (decide_blocks, validate_all))


def main() -> int:
    from engine.backends.columnar.kernel.cache import CACHE_DIR, LOG

    handler = logging.StreamHandler(sys.stderr)
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    t = time.perf_counter()
    try:
        compiled = warm()
    except EngineError as exc:
        print(f"columnar kernel: {exc}", file=sys.stderr)
        return 1
    finally:
        LOG.removeHandler(handler)
    seconds = time.perf_counter() - t
    if CACHE_DIR is None:
        print(f"columnar kernel compiled in {seconds:.0f} s, but no folder to cache it in is writable", file=sys.stderr)
    elif compiled:
        print(f"columnar kernel compiled in {seconds:.0f} s, cached in {CACHE_DIR}", file=sys.stderr)
    else:
        print(f"columnar kernel ready (cached in {CACHE_DIR})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
