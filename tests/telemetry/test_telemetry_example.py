"""The bundled year of Taiyuan telemetry: reproducible by its script, and shaped as the reader expects."""

import csv
import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest
from repo import ROOT

SCRIPT = ROOT / "scripts" / "make_telemetry_example.py"
BUNDLED = ROOT / "examples" / "telemetry" / "taiyuan-2026.csv"
HEADER = ["system_id", "interval_start", "grid_import_kw", "storage_discharge_kw", "storage_charge_kw", "received_at"]
STEP = dt.timedelta(minutes=15)
EXPECTED = 35040
MISSING = 6 * 4 + 108 * 4 + 148 * 4  # the three outages the script models


@pytest.fixture(scope="module")
def rows():
    with BUNDLED.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_script_reproduces_the_bundled_file_byte_for_byte(tmp_path):
    out = tmp_path / "nested" / "taiyuan.csv"
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == BUNDLED.read_bytes()
    assert "baseline peak in 08:00–22:00: 1200.00 kW at 2026-11-11T19:45" in run.stdout


def test_header_and_one_row_per_received_interval(rows):
    assert rows[0] == HEADER
    assert len(rows) - 1 == EXPECTED - MISSING
    assert all(len(r) == len(HEADER) and r[0] == "TY-QH-ESS-01" for r in rows[1:])


def test_starts_are_aligned_unique_ascending_and_in_2026(rows):
    starts = [dt.datetime.fromisoformat(r[1]) for r in rows[1:]]
    assert all(s.minute % 15 == 0 and s.second == 0 and s.year == 2026 for s in starts)
    assert len(set(starts)) == len(starts)
    assert starts == sorted(starts)
    gaps = [(a, b) for a, b in zip(starts, starts[1:]) if b - a != STEP]
    assert [(a.isoformat(), b.isoformat()) for a, b in gaps] == [
        ("2026-03-17T10:00:00", "2026-03-17T16:15:00"),
        ("2026-07-28T19:45:00", "2026-08-02T08:00:00"),
        ("2026-09-21T13:45:00", "2026-09-27T18:00:00"),
    ]


def test_values_meet_the_format_and_the_designed_figures(rows):
    """Recomputed here independently of the script: the figures the README and the reader rely on."""
    baseline, with_storage, discharged, delays = [], [], Decimal(0), []
    for r in rows[1:]:
        start = dt.datetime.fromisoformat(r[1])
        imp, dis, chg = (Decimal(v) for v in r[2:5])
        assert all(v >= 0 and v.as_tuple().exponent == -2 for v in (imp, dis, chg)), r
        assert not (dis and chg), r
        discharged += dis / 4
        delays.append(dt.datetime.fromisoformat(r[5]) - (start + STEP))
        if start.hour >= 8 and start + STEP <= start.replace(hour=22, minute=0):
            baseline.append(imp + dis - chg)
            with_storage.append(imp)
    assert max(baseline) == Decimal("1200.00") and baseline.count(max(baseline)) == 1
    assert max(with_storage) == Decimal("904.96")
    assert discharged == Decimal("350019.425")
    assert min(delays) >= dt.timedelta(minutes=1)
    assert max(delays) == dt.timedelta(minutes=11, seconds=43)
    assert sum(d > dt.timedelta(minutes=8) for d in delays) == 8
