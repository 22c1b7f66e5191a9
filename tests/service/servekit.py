"""`shuangtan serve` as a real process on loopback (this checkout's code: python -m engine)."""

import contextlib
import os
import socket
import subprocess
import sys
import time

from repo import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(db_url: str, workers: int = 2, *args: str):
    """The base URL of a running server; stopped (its workers with it) on leaving."""
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
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
