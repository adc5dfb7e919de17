"""The rate limit counted in the database (web/ratelimit.py): shared by every worker, sliding over two windows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage.logstore import LogStore, make_engine
from bot.storage.tables import rate_limits
from web.ratelimit import RateLimiter


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    LogStore(url).migrate()
    return url


def test_two_workers_share_one_limit(db_url: str) -> None:
    """Two processes each have their own engine; before, each allowed the full limit (issue 15)."""
    clock = Clock()
    a = RateLimiter(make_engine(db_url), "chat", 4, clock=clock)
    b = RateLimiter(make_engine(db_url), "chat", 4, clock=clock)
    got = [lim.hit("198.51.100.7") for lim in (a, b, a, b, a, b)]
    assert got[:4] == [None] * 4
    assert all(w is not None and 0 < w <= 60 for w in got[4:])
    assert a.hit("198.51.100.8") is None  # another client has its own count
    assert RateLimiter(make_engine(db_url), "light", 4, clock=clock).hit("198.51.100.7") is None  # and another bucket


def test_the_window_slides_and_refusals_do_not_count(db_url: str) -> None:
    clock = Clock(1_800_000_000.0 - 1_800_000_000.0 % 60 + 50)  # 10 s before a window boundary
    lim = RateLimiter(make_engine(db_url), "chat", 3, clock=clock)
    assert [lim.hit("c") for _ in range(3)] == [None] * 3
    assert lim.hit("c") is not None
    clock.t += 15  # a new fixed window, but 3 hits 15 s ago still count almost fully: no burst of twice the limit
    wait = lim.hit("c")
    assert wait is not None and wait > 1
    clock.t += wait + 0.01  # the promised wait is enough
    assert lim.hit("c") is None
    clock.t += 200  # long idle: everything forgotten
    assert [lim.hit("c") for _ in range(3)] == [None] * 3
    with lim.engine.connect() as conn:  # old windows are swept
        assert conn.scalar(select(func.min(rate_limits.c.window_start))) >= int(clock.t // 60) * 60 - 60


def test_a_broken_database_lets_the_request_through(tmp_path: Path) -> None:
    lim = RateLimiter(make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}"), "chat", 1)
    assert lim.hit("c") is None and lim.hit("c") is None
