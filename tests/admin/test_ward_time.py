"""The ward's clock, not the host's: with the process clock in UTC at 20:00 (already tomorrow in Tokyo) and at 01:00
(the same date in both), a question asked now shows up in today's dashboard, log, unanswered queue and analytics.

Before the fix, ``Settings.current_date()`` used the host's date while analytics grouped by Tokyo date, so between
15:00 and 24:00 UTC the admin pages hid the current day's questions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import time_machine

from bot.answering.curated import fiscal_year_end
from bot.config import Settings
from bot.service import Bot
from bot.staff.auth import Accounts, Role
from bot.storage.logstore import LogStore
from tests.admin.conftest import sign_in
from tests.web.conftest import LiveServer
from web.app import create_app

QUESTION = "区民農園の抽選はいつですか"


@pytest.fixture()
def ward_server(tmp_path: Path, admin_settings: Settings, admin_bot: Bot) -> Iterator[LiveServer]:
    """A server of its own (own log database), so the rows these tests write at other times touch no other test."""
    settings = admin_settings.model_copy(update={"data_dir": tmp_path, "db_url": None})
    store = LogStore(settings.database_url)
    store.migrate()
    Accounts(store.engine).add("viewer", "viewer-viewer-pw", Role.VIEWER)
    store.close()
    server = LiveServer(create_app(settings, bot=admin_bot)).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("utc", "tokyo_date"),
    [
        (datetime(2026, 12, 1, 20, 0, tzinfo=UTC), date(2026, 12, 2)),
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), date(2026, 12, 1)),
    ],
    ids=["20:00Z", "01:00Z"],
)
def test_todays_questions_are_shown_at_any_utc_hour(ward_server: LiveServer, utc: datetime, tokyo_date: date) -> None:
    with time_machine.travel(utc, tick=True):
        assert Settings().current_date() == tokyo_date
        with httpx.Client(base_url=ward_server.url, timeout=60, follow_redirects=False) as c:
            turn = c.post("/api/chat", json={"message": QUESTION}).json()
            # rated unhelpful, so it is in the unanswered queue whatever kind of reply it got
            vote = {"message_id": turn["message_id"], "helpful": False, "session_id": turn["session_id"]}
            assert c.post("/api/feedback", json=vote).status_code == 200
            assert sign_in(c, "viewer").status_code == 303
            dashboard = c.get("/admin").text
            assert tokyo_date.isoformat() in dashboard
            log = c.get("/admin/logs", params={"days": 1}).text
            assert QUESTION in log and f"{tokyo_date:%Y-%m-%d}" in log
            assert QUESTION in c.get("/admin/unanswered").text
            rows = list(csv.reader(io.StringIO(c.get("/admin/analytics.csv").text.lstrip("\ufeff"))))
            assert ["per_day", tokyo_date.isoformat(), "1"] in rows
            assert ["period", "end", tokyo_date.isoformat()] in rows


def test_fiscal_year_turns_on_the_ward_date() -> None:
    # 31 March 16:30 UTC is 1 April 01:30 in Tokyo: a curated answer made then expires at the end of the NEW year.
    with time_machine.travel(datetime(2027, 3, 31, 16, 30, tzinfo=UTC), tick=False):
        assert fiscal_year_end(Settings().current_date()) == date(2028, 3, 31)
        assert fiscal_year_end(Settings(timezone="UTC").current_date()) == date(2027, 3, 31)


def test_a_bad_time_zone_stops_start_up_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="BOT_TIMEZONE='Tokyo' is not an IANA time zone"):
        Settings(timezone="Tokyo")
