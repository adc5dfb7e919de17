"""Who published a source: only the ward's own pages are called official ward information."""

from __future__ import annotations

import pytest

from bot.knowledge.publishers import LABELS, publisher_type

WARD, COUNCILLORS = ("city.taito.lg.jp",), ("sayohomme.com",)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.city.taito.lg.jp/kosodatekyouiku/x.html", "official_ward"),
        ("https://www.metro.tokyo.lg.jp/tosei/x.html", "official_tokyo"),
        ("https://www.tfd.metro.tokyo.lg.jp/kouhyou/x.html", "official_tokyo"),
        ("http://www.keishicho.metro.tokyo.jp/about_mpd/x.html", "official_tokyo"),
        ("https://www.gender.go.jp/policy/x.html", "official_national"),
        ("https://www.city.shinjuku.lg.jp/x.html", "other_municipality"),
        ("https://www.pref.gunma.jp/site/x.html", "other_municipality"),
        ("https://nishitokyo.city-hc.jp/open_announcement/x", "other_municipality"),
        ("https://www.j-poison-ic.jp/about/", "related_body"),
        ("https://sayohomme.com/2025/12/11/44132", "councillor"),
        ("https://note.com/someone/n/abc", "private"),
        ("https://evil.example/city.taito.lg.jp/", "private"),  # the host decides, not the path
        ("https://city.taito.lg.jp.evil.example/", "private"),
    ],
)
def test_publisher_type_comes_from_the_host(url: str, kind: str) -> None:
    assert publisher_type(url, WARD, COUNCILLORS) == kind
    assert kind in LABELS


def test_without_a_ward_profile_nothing_is_called_the_wards() -> None:
    assert publisher_type("https://www.city.taito.lg.jp/x.html") == "other_municipality"
