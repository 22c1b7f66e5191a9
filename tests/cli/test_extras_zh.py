"""A missing extra is named in Chinese by default (the pip line as it is), English with --lang en."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.zh

CODE = """
import sys
for name in ("polars", "pyarrow", "numba", "numpy"):
    sys.modules[name] = None  # importing them fails as if they were not installed
from engine.cli import main
main({args!r}, prog_name="shuangtan")
"""


def run(args, lang, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHUANGTAN_LANG": lang}
    return subprocess.run(
        [sys.executable, "-c", CODE.format(args=args)], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "lang, line",
    [
        ("zh", "错误：此命令需要 numpy，但尚未安装：pip install 'shuangtan[columnar]'"),
        ("en", "Error: this command needs numpy, which is not installed: pip install 'shuangtan[columnar]'"),
    ],
)
def test_the_missing_extra_line_in_each_language(tmp_path, lang, line):
    proc = run(["population", "generate", "--n", "5", "--seed", "1", "--out", "p.parquet"], lang, tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip() == line, proc.stderr
