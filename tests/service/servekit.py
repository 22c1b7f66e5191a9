"""`shuangtan serve` as a real process on loopback: engine.service.testing (shared with the benchmarks)."""

from engine.service.testing import free_port, serving

__all__ = ["free_port", "serving"]
