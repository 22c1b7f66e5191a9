"""`shuangtan serve` as a real process on loopback, for tests and benchmarks (this code: python -m engine)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

#: the folder that holds the ``engine`` package this module belongs to (a checkout or site-packages)
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(db_url: str, workers: int = 2, *args: str, wait: float = 60.0) -> Iterator[str]:
    """The base URL of a running server over ``db_url`` (no rate limit); stopped, its workers
    with it, on leaving. ``args``: more ``serve`` options."""
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "engine", "serve", "--db", db_url, "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        [*cmd, "--rate", "0", "--log-level", "warning", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"serve exited {proc.returncode}: {stderr[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer within {wait:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
