"""The sample database generator: deterministic, complete, consistent, written atomically."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from galaxy_chat.data.sample_database import FILE_NAME, SEED, build_sample_database, ensure_sample_database

ROOT = Path(__file__).resolve().parent.parent


def rows_of(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def dump_hash(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_database(tmp_path_factory.mktemp("sample") / FILE_NAME)


def test_same_seed_gives_identical_content_and_another_seed_does_not(db: Path, tmp_path: Path) -> None:
    again = build_sample_database(tmp_path / "again.db")
    assert dump_hash(again) == dump_hash(db)
    assert again.read_bytes() == db.read_bytes()  # byte for byte, too
    other = build_sample_database(tmp_path / "other.db", seed=SEED + 1)
    assert dump_hash(other) != dump_hash(db)


def test_tables_have_the_promised_sizes(db: Path) -> None:
    counts = {table: rows_of(db, f"SELECT count(*) FROM {table}")[0][0]
              for table in ("users", "products", "orders", "monthly_sales")}
    assert counts == {"users": 200, "products": 30, "orders": 2000, "monthly_sales": 360}
    months = rows_of(db, "SELECT count(DISTINCT substr(order_date, 1, 7)), min(order_date), max(order_date) "
                         "FROM orders")
    assert months[0][0] == 24 and months[0][1].startswith("2023-01") and months[0][2].startswith("2024-12")
    assert len(rows_of(db, "SELECT DISTINCT category FROM products")) == 5


def test_users_are_unique_and_every_manager_chain_reaches_the_ceo(db: Path) -> None:
    users = rows_of(db, "SELECT id, email, manager_id FROM users")
    assert len({email for _, email, _ in users}) == 200
    manager_of = {user_id: manager for user_id, _, manager in users}
    assert [user_id for user_id, manager in manager_of.items() if manager is None] == [1]
    for user_id in manager_of:
        chain, current = 0, user_id
        while manager_of[current] is not None:
            current, chain = manager_of[current], chain + 1
            assert chain < 5, f"user {user_id} has no path to the CEO"
        assert current == 1


def test_orders_link_to_real_users_and_products_with_correct_totals(db: Path) -> None:
    orphans = rows_of(db, "SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id "
                          "LEFT JOIN products p ON p.id = o.product_id WHERE u.id IS NULL OR p.id IS NULL")
    assert orphans == [(0,)]
    wrong = rows_of(db, "SELECT count(*) FROM orders WHERE abs(total - quantity * unit_price) > 0.005 "
                        "OR quantity < 1 OR unit_price <= 0")
    assert wrong == [(0,)]


def test_monthly_sales_add_up_to_the_completed_orders(db: Path) -> None:
    from_orders = rows_of(db, """
        SELECT substr(o.order_date, 1, 7), o.region, p.category, round(sum(o.total), 2), sum(o.quantity)
        FROM orders o JOIN products p ON p.id = o.product_id WHERE o.status = 'completed'
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    stored = rows_of(db, "SELECT month, region, category, revenue, units FROM monthly_sales "
                         "WHERE units > 0 ORDER BY 1, 2, 3")
    assert stored == from_orders
    # Q4 sells more than the summer in both years: the seasonality a chart should show.
    for year in ("2023", "2024"):
        q4, summer = (rows_of(db, f"SELECT sum(units) FROM monthly_sales WHERE month IN ({months})")[0][0]
                      for months in (f"'{year}-10','{year}-11','{year}-12'", f"'{year}-06','{year}-07','{year}-08'"))
        assert q4 > summer


def test_ensure_builds_once_and_keeps_an_existing_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    path = ensure_sample_database(data_dir)
    assert path == data_dir / FILE_NAME and path.is_file()
    assert sorted(p.name for p in data_dir.iterdir()) == [FILE_NAME]  # no temp file left behind
    with closing(sqlite3.connect(path)) as connection:  # someone's own edits must survive a restart
        connection.execute("DELETE FROM orders")
        connection.commit()
    assert ensure_sample_database(data_dir) == path
    assert rows_of(path, "SELECT count(*) FROM orders") == [(0,)]


def test_rebuilding_replaces_the_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "rebuilt"
    folder.mkdir()
    path = folder / FILE_NAME
    path.write_text("not a database")
    build_sample_database(path)
    assert rows_of(path, "SELECT count(*) FROM users") == [(200,)]
    assert [p.name for p in folder.iterdir()] == [FILE_NAME]


def test_command_line_writes_the_database(tmp_path: Path) -> None:
    target = tmp_path / "cli" / "sample.db"
    done = subprocess.run([sys.executable, "-m", "galaxy_chat.data.sample_database", str(target)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {target}: 200 users, 30 products, 2000 orders, 360 monthly_sales"
    assert dump_hash(target) == dump_hash(build_sample_database(tmp_path / "direct.db"))
