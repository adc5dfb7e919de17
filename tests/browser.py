"""Shared set-up for the browser tests: Debian's chromium driven by Playwright for Python (never `playwright install`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# The flags keep a sandboxed, offline machine quiet: no GPU, no background connections that the closed network refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip

MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def collect_problems(page: Any) -> list[str]:
    """Script errors and CSP refusals the page reports (4xx answers that tests provoke are not problems)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


@contextmanager
def checked_page(browser: Any, width: int, height: int, timeout_ms: int) -> Iterator[Any]:
    """A fresh context and page that fails the test on any script error or CSP refusal when it closes."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    problems = collect_problems(page)
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems


@contextmanager
def script_checked_page(browser: Any, width: int, height: int, timeout_ms: int = 15_000) -> Iterator[Any]:
    """Like ``checked_page`` but failing only on script errors: for tests that provoke network failures or load
    another origin, whose console messages are expected."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors
