"""The columnar backend's native kernel: one fixed interpreter of compiled rule programs, in numba.

``Checked`` validates a population once; ``run`` decides one rulebook over the rows it vouches
for (kernel/entry.py says how). The modules: layout (the register file), arrow (the frame's
buffers as the kernel reads them), validation and interpreter (the two compiled passes),
buffers (the typed outputs), programs (a rulebook's register programs), cache (where the
compiled code is kept, and the word when it is compiled).
"""

from __future__ import annotations

from engine.backends.columnar.kernel.entry import MAX_DICTIONARY, Checked, run

__all__ = ["MAX_DICTIONARY", "Checked", "run"]
