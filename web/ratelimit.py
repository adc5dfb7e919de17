"""Per-client rate limits, counted in the bot's database so every worker and every machine shares them.

An in-process counter let ``--workers 2`` allow twice the limit, and each machine behind a load balancer its own.
The count lives in ``rate_limits`` (see bot/storage/tables.py): one row per (bucket, client, fixed window), bumped by a
single upsert. The limit is judged on a sliding estimate over two windows (the previous window's hits weighted by how
much of it still overlaps the last ``window`` seconds, plus the current one's), so a burst at a window boundary does
not get twice the limit. A refused request is not counted, so a client that slows down to the limit gets through.

The client is ``request.client.host``: the peer, or, when the peer is one of ``BOT_FORWARDED_ALLOW_IPS``, the address
in its ``X-Forwarded-For`` (uvicorn's proxy-headers handling), so behind a load balancer each parent has a bucket.

A database that fails never stops an answer: the request is let through and the failure logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.logstore import upsert
from bot.storage.tables import rate_limits

log = logging.getLogger("web.ratelimit")

CLIENT_MAX = 100


class RateLimiter:
    def __init__(
        self, engine: Engine, bucket: str, limit: int, window: float = 60.0, clock: Callable[[], float] = time.time
    ):
        self.engine = engine
        self.bucket = bucket
        self.limit = limit
        self.window = int(window)
        self._clock = clock
        self._last_sweep = 0

    def hit(self, key: str) -> float | None:
        """Count one request. Returns None when allowed, else the seconds until the client may try again."""
        now = self._clock()
        start = int(now // self.window) * self.window
        elapsed = now - start
        client = key[:CLIENT_MAX]
        row = (self.bucket, client)
        try:
            with self.engine.begin() as conn:
                hits = int(
                    upsert(
                        conn, rate_limits,
                        {"bucket": self.bucket, "client": client, "window_start": start, "hits": 1},
                        ["bucket", "client", "window_start"], [], returning=rate_limits.c.hits,
                        increment="hits",
                    )
                )  # fmt: skip
                previous = int(
                    conn.scalar(
                        select(rate_limits.c.hits).where(
                            and_(
                                rate_limits.c.bucket == row[0],
                                rate_limits.c.client == row[1],
                                rate_limits.c.window_start == start - self.window,
                            )
                        )
                    )
                    or 0
                )
                weight = 1.0 - elapsed / self.window
                if previous * weight + hits <= self.limit:
                    wait = None
                else:
                    conn.execute(  # not counted: only requests that were served use up the limit
                        update(rate_limits)
                        .where(
                            and_(
                                rate_limits.c.bucket == row[0],
                                rate_limits.c.client == row[1],
                                rate_limits.c.window_start == start,
                            )
                        )
                        .values(hits=rate_limits.c.hits - 1)
                    )
                    # the estimate assumes the previous window's hits were spread evenly, so it can ask for a little
                    # more than a window; a true sliding log never does, and a client is never told to wait longer
                    wait = min(self._wait(previous, hits - 1, elapsed), float(self.window))
                if start - self._last_sweep >= self.window:
                    # forget old windows so the table does not grow with every address ever seen
                    conn.execute(
                        delete(rate_limits).where(
                            and_(rate_limits.c.bucket == self.bucket, rate_limits.c.window_start < start - self.window)
                        )
                    )
                    self._last_sweep = start
        except SQLAlchemyError as e:
            log.warning("rate limit not checked (database error): %s: %s", type(e).__name__, str(e)[:200])
            return None
        return wait

    def _wait(self, previous: int, current: int, elapsed: float) -> float:
        """Seconds until one more request fits: when the previous window's weight has decayed enough, or else when
        the current window becomes the previous one (and then until that decays)."""
        room = self.limit - 1 - current
        if previous and room >= 0:
            # previous * (1 - (elapsed + t) / window) <= room
            return max(self.window * (1.0 - room / previous) - elapsed, 0.5)
        to_next = self.window - elapsed
        if current + 1 > self.limit:
            return to_next + self.window * (1.0 - (self.limit - 1) / max(current, 1))
        return to_next


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
