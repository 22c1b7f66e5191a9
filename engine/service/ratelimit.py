"""A token bucket per client address, in process: enough to keep one client from starving the
others on the open endpoints (several workers each keep their own; a reverse proxy in front can
limit across them)."""

from __future__ import annotations

import math
import threading
import time


class Buckets:
    """``take(key)`` spends one request of ``key``'s bucket: 0.0 when allowed, else the seconds
    until one is back. ``rate`` 0 allows everything."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic, max_clients: int = 100_000):
        self.rate, self.burst, self.clock = float(rate), max(1, int(burst)), clock
        self.max_clients = max_clients
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, when = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._remember(key, tokens - 1.0, now)
                return 0.0
            self._remember(key, tokens, now)
            return (1.0 - tokens) / self.rate

    def _remember(self, key: str, tokens: float, now: float) -> None:
        if key not in self._state and len(self._state) >= self.max_clients:
            # forget the full buckets first: they are what a new client would start with anyway
            full = [k for k, (t, w) in self._state.items() if t + (now - w) * self.rate >= self.burst]
            for k in full or list(self._state)[: self.max_clients // 2]:
                del self._state[k]
        self._state[key] = (tokens, now)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
