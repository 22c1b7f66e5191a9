"""Where things are in the repository, for tests that need a path when they are collected
(parametrize lists, module constants); conftest's fixtures hand out the same paths."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples/applications"
WORKED_EXAMPLE = EXAMPLES / "taiyuan-pv-storage-warehouse.json"
BATCH = ROOT / "examples/batch"
REFORMS = ROOT / "rules/reforms"
RULE_TESTS = ROOT / "tests/rules"
FIXTURES = ROOT / "tests/fixtures"
BROKEN_REFORMS = FIXTURES / "reforms"
