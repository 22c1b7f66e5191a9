"""submit reads at most one byte more than the contract's document limit (issue 12): a larger
file, or standard input, is refused in one line naming it and the limit, not stored, counted as
rejected, and the other files are received."""

import os
import time
import tracemalloc

from engine.contract.bounds import MAX_DOCUMENT_BYTES

LIMIT_LINE = f"larger than {MAX_DOCUMENT_BYTES:,} bytes, the contract's limit for one application; not stored"


def test_a_file_one_byte_over_the_limit_is_refused_and_the_others_received(cli, sqlite_url, root, tmp_path):
    over = tmp_path / "over.json"
    over.write_bytes(b" " * (MAX_DOCUMENT_BYTES + 1))
    good = root / "examples/applications/taiyuan-pv-storage-warehouse.json"
    r = cli("submit", "--db", sqlite_url, "--by", "li", over, good)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    assert f"rejected   {over}: {LIMIT_LINE}" in r.output.splitlines()
    assert any(line.startswith("received   APP-2026-000123 v1") for line in r.output.splitlines())
    assert "2 file(s): 1 accepted, 1 rejected" in r.output
    listed = cli("list", "--db", sqlite_url)
    assert listed.exit_code == 0 and "APP-2026-000123" in listed.output and "over.json" not in listed.output


def test_standard_input_over_the_limit_is_refused_too(cli, sqlite_url):
    r = cli("submit", "--db", sqlite_url, "--by", "li", "-", input=b"{" + b" " * MAX_DOCUMENT_BYTES)
    assert r.exit_code == 1 and f"rejected   -: {LIMIT_LINE}" in r.output.splitlines()


def test_a_4_gib_sparse_file_is_refused_fast_reading_one_mebibyte(cli, sqlite_url, root, tmp_path):
    good = root / "examples/applications/taiyuan-pv-storage-warehouse.json"
    assert cli("submit", "--db", sqlite_url, "--by", "li", good).exit_code == 0  # imports and the schema, not measured
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:
        fh.truncate(4 << 30)
    assert os.path.getsize(huge) == 4 << 30
    started = time.perf_counter()
    tracemalloc.start()
    try:
        r = cli("submit", "--db", sqlite_url, "--by", "li", huge, good)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert r.exit_code == 1 and f"rejected   {huge}: {LIMIT_LINE}" in r.output.splitlines()
    assert "unchanged  APP-2026-000123 v1" in r.output
    assert peak < 4 * MAX_DOCUMENT_BYTES, peak
