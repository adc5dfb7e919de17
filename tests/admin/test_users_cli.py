"""``python -m bot users``: the first admin comes from the command line; there is no default account."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # starts a subprocess
def test_the_module_entry_point(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")} | {"BOT_DATA_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "bot", "users", "add", "hanako", "--role", "admin", "--password-stdin"],
                       input="a-long-password\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "added hanako (admin)" in r.stdout


def test_users_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.staff.auth import Accounts, Role
    from bot.storage.logstore import LogStore

    monkeypatch.delenv("BOT_DB_URL", raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))

    def run(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(["users", *args])

    assert run("list") == 0 and capsys.readouterr().out == ""  # no default account
    assert run("add", "hanako", "--role", "admin", "--password-stdin", stdin="a-long-password\n") == 0
    assert run("add", "taro", "--role", "viewer", "--password-stdin", stdin="short\n") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert run("add", "taro", "--role", "viewer", "--password-stdin", stdin="another-password\n") == 0
    assert run("set-role", "taro", "--role", "editor") == 0
    capsys.readouterr()
    assert run("list") == 0 and capsys.readouterr().out.splitlines() == ["hanako\tadmin", "taro\teditor"]
    assert run("delete", "hanako") == 2 and "last admin" in capsys.readouterr().err
    store = LogStore(f"sqlite:///{tmp_path / 'bot.db'}")
    accounts = Accounts(store.engine)
    assert accounts.authenticate("taro", "another-password").role is Role.EDITOR
    with store.engine.connect() as conn:
        assert str(conn.exec_driver_sql("SELECT password_hash FROM users WHERE name='taro'").scalar()).startswith(
            "$argon2id$"
        )
    assert run("unlock", "taro") == 0 and run("delete", "taro") == 0
    assert [e.action for e in accounts.audit_entries(10)][:2] == ["user.delete", "user.unlock"]
    store.close()
