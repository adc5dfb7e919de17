"""The numbered migrations (bot/storage/migrations.py): an old database upgrades to the same schema a new one gets, and
that schema is the one bot/storage/tables.py describes; start-up migrations run once even when workers race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Engine

from bot.storage import migrations
from bot.storage.logstore import LogStore, make_engine
from bot.storage.tables import conversations, metadata


def schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns (type, nullability, key), indexes, unique constraints and foreign keys."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        pk = set(insp.get_pk_constraint(table)["constrained_columns"])
        out[table] = {
            "columns": {
                c["name"]: (str(c["type"]).split("(")[0].upper(), str(c["type"]), c["nullable"], c["name"] in pk)
                for c in insp.get_columns(table)
            },
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "fks": sorted(
                (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    (f.get("options") or {}).get("ondelete"),
                )
                for f in insp.get_foreign_keys(table)
            ),  # fmt: skip
        }
    return out


def _check_upgrade(old_url: str, new_url: str, tables_url: str) -> None:
    old = LogStore(old_url)
    assert old.migrate(upto=1) == ["m001_initial"]
    # a database in use at migration 1: a conversation with a message
    with old.engine.begin() as conn:
        now = datetime.now(UTC)
        conn.execute(insert(conversations).values(id="s1", created_at=now, last_at=now))
    upgraded = old.migrate()
    assert upgraded == [name for n, name, _ in migrations.MIGRATIONS if n > 1]
    fresh = LogStore(new_url)
    fresh.migrate()
    assert schema(old.engine) == schema(fresh.engine)
    with old.engine.connect() as conn:
        assert conn.scalar(select(conversations.c.id)) == "s1"  # nothing lost on the way
    # the current table definitions (what the code queries) describe the same schema as the migrations
    direct = make_engine(tables_url)
    metadata.create_all(direct)
    want = {k: v for k, v in schema(fresh.engine).items() if k != "schema_migrations"}
    assert {k: v for k, v in schema(direct).items() if k != "schema_migrations"} == want
    for e in (old.engine, fresh.engine, direct):
        e.dispose()


def test_sqlite_database_at_migration_1_upgrades_to_the_fresh_schema(tmp_path: Path) -> None:
    _check_upgrade(f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}",
                   f"sqlite:///{tmp_path / 'tables.db'}")  # fmt: skip


@pytest.mark.slow
def test_postgres_database_at_migration_1_upgrades_to_the_fresh_schema(pg_server: Any) -> None:
    _check_upgrade(pg_server.new_database(), pg_server.new_database(), pg_server.new_database())


def test_a_migration_states_its_own_ddl() -> None:
    """No migration reaches for today's tables: changing tables.py must not change what an old migration creates."""
    import inspect as pyinspect

    for _, _, fn in migrations.MIGRATIONS:
        src = pyinspect.getsource(fn)
        assert "tables." not in src and "metadata.create_all" not in src, fn.__name__


def _race(url: str, workers: int = 6) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def start() -> None:
        store = LogStore(url)  # one engine per "worker", as separate processes would have
        try:
            barrier.wait()
            store.migrate()
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_sqlite_workers_starting_together_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    assert _race(url) == []
    store = LogStore(url)
    assert store.applied_migrations() == [name for _, name, _ in migrations.MIGRATIONS]


@pytest.mark.slow
def test_postgres_workers_starting_together_migrate_once(pg_url: str) -> None:
    assert _race(pg_url) == []
    store = LogStore(pg_url)
    assert store.applied_migrations() == [name for _, name, _ in migrations.MIGRATIONS]
    store.close()
