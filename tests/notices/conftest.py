"""The notice tests build confirmed decisions with the record's test kit (tests/records/recordkit.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "records"))
