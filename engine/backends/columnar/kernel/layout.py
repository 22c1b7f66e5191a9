"""The kernel's register file: which input register holds which field, and rows per block.

Registers 0.. hold the numeric fields, then the boolean fields, then a presence flag per
optional section, then the label fields' codes (``N_INPUTS`` in all); a program's own
registers follow. The compiled code reads ``BLOCK`` as a constant (kernel/cache.py keys the
cache on this file).
"""

from __future__ import annotations

import numpy as np

from engine.contract.application import FIELDS, SECTIONS

BLOCK = 1024  # rows per interpreter step (registers stay in cache)
START_LIMIT = 10**18  # the magnitude validation checks; each program lowers its own limits

NUMERIC = [p for p, k in FIELDS.items() if k in ("decimal", "integer")]
BOOLEAN = [p for p, k in FIELDS.items() if k == "boolean"]
DATES = [p for p, k in FIELDS.items() if k == "date"]
TEXT = [p for p, k in FIELDS.items() if k in ("text", "label")]
LABEL_FIELDS = ("enterprise.region_code", "enterprise.size")
OPTIONAL_SECTIONS = SECTIONS[:-1]  # sections whose absence is allowed (history has defaults)
SECTION_SIZE = np.array(
    [sum(1 for p in NUMERIC + BOOLEAN if p.split(".")[0] == s) for s in OPTIONAL_SECTIONS], dtype=np.int64
)
# the kernel counts present fields per section over numeric and boolean fields only
SECTIONS_COUNTABLE = not any(p.split(".")[0] in OPTIONAL_SECTIONS for p in DATES + TEXT)

FIRST_SECTION = len(NUMERIC) + len(BOOLEAN)  # register of the first section's presence flag
FIRST_LABEL = FIRST_SECTION + len(OPTIONAL_SECTIONS)  # register of the first label code
N_INPUTS = FIRST_LABEL + len(LABEL_FIELDS)


def section_of(path: str) -> int:
    """Index of the field's optional section, or -1."""
    head = path.split(".")[0]
    return OPTIONAL_SECTIONS.index(head) if head in OPTIONAL_SECTIONS else -1
