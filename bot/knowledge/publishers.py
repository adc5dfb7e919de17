"""Who published a source page, from its address: what a parent is told about a source before trusting it.

The knowledge cites ward pages, Tokyo's, national ones, other municipalities', related bodies' and a few private
sites (blogs, councillors' pages). Only the ward's own pages may be called 「区の公式情報」; the rest say whose they
are, and councillors' and private ones say they are unofficial. The ward's hosts and its councillors' blogs come from
``knowledge/ward.yaml`` (``hosts``, ``councillor_hosts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from bot.knowledge import Procedure
    from bot.knowledge.ward import WardProfile

LABELS = {
    "official_ward": "区の公式ページ",
    "official_tokyo": "東京都の公式ページ",
    "official_national": "国の公式ページ",
    "other_municipality": "他の自治体のページ",
    "related_body": "関係機関のページ",
    "councillor": "区議会議員のブログ(非公式)",
    "private": "民間・個人のページ(非公式)",
}
# Publishers a host settles by itself (a declared type must then agree with the host).
OFFICIAL = ("official_ward", "official_tokyo", "official_national", "other_municipality")
_TOKYO = ("metro.tokyo.lg.jp", "metro.tokyo.jp", "tokyo.lg.jp")
# Public bodies that are neither government sites nor private (kept short on purpose: others count as private).
_RELATED = ("j-poison-ic.jp", "j-poison-ic.or.jp", "fukunavi.or.jp", "tokyo-tsunagari.or.jp", "taitoshakyo.com",
            "taitoswc.org", "mykoho.jp")  # fmt: skip
_MUNICIPAL_PORTALS = ("city-hc.jp",)  # health portals that cities run on a vendor's domain


def _within(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def document_publisher(p: Procedure, ward: WardProfile | None) -> str:
    """Who published a document's first source, as its citation tells parents: declared in the front matter (checked
    against the host by the validator), else told by the host."""
    declared = p.sources[0].publisher if p.sources else None
    if declared:
        return declared
    return publisher_type(p.url, ward.hosts, ward.councillor_hosts) if ward else publisher_type(p.url)


def publisher_type(url: str, ward_hosts: Sequence[str] = (), councillor_hosts: Sequence[str] = ()) -> str:
    host = (urlsplit(url).hostname or "").lower()
    if ward_hosts and _within(host, ward_hosts):
        return "official_ward"
    if councillor_hosts and _within(host, councillor_hosts):
        return "councillor"
    if _within(host, _TOKYO):
        return "official_tokyo"
    if host.endswith(".go.jp"):
        return "official_national"
    if host.endswith(".lg.jp") or (
        host.endswith(".jp") and host.startswith(("city.", "www.city.", "pref.", "www.pref."))
    ):
        return "other_municipality"
    if _within(host, _MUNICIPAL_PORTALS):
        return "other_municipality"
    if _within(host, _RELATED):
        return "related_body"
    return "private"
