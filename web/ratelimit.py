"""A per-client sliding-window rate limit, in memory (one process serves the ward's traffic; see the README)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window: float = 60.0, clock=time.monotonic):  # type: ignore[no-untyped-def]
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def hit(self, key: str) -> float | None:
        """Count one request. Returns None when allowed, else the seconds until the client may try again."""
        now = self._clock()
        with self._lock:
            if now - self._last_sweep > self.window:
                self._sweep(now)
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(q[0] + self.window - now, 0.0)
            q.append(now)
            return None

    def _sweep(self, now: float) -> None:
        # Forget idle clients so the table does not grow with every address ever seen.
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= now - self.window]:
            del self._hits[key]
        self._last_sweep = now


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
