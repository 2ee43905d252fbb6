"""The sample SQLite database: a small company with users, products, orders and monthly sales.

Deterministic: a fixed seed and fixed dates (2023-01 .. 2024-12, not "the last 24 months"), so the same
code always writes the same rows and tests can assert on them.

    uv run python -m galaxy_chat.data.sample_database [path]     # default: data/sample.db
"""

from __future__ import annotations

import calendar
import os
import random
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

SEED = 20240601
FILE_NAME = "sample.db"
USER_COUNT = 200
ORDER_COUNT = 2000
MONTHS = [f"{year}-{month:02d}" for year in (2023, 2024) for month in range(1, 13)]

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    location TEXT NOT NULL,
    manager_id INTEGER REFERENCES users(id),  -- NULL only for the CEO
    hired_on TEXT NOT NULL                    -- YYYY-MM-DD
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    price REAL NOT NULL                       -- list price in USD
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),       -- who booked the order
    product_id INTEGER NOT NULL REFERENCES products(id),
    order_date TEXT NOT NULL,                            -- YYYY-MM-DD
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL,                            -- after discount
    total REAL NOT NULL,                                 -- quantity * unit_price
    region TEXT NOT NULL,                                -- region of the booking user's office
    status TEXT NOT NULL
);
CREATE TABLE monthly_sales (
    month TEXT NOT NULL,                                 -- YYYY-MM
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    revenue REAL NOT NULL,                               -- completed orders only, USD
    units INTEGER NOT NULL,
    PRIMARY KEY (month, region, category)
);
CREATE INDEX orders_user ON orders(user_id);
CREATE INDEX orders_product ON orders(product_id);
CREATE INDEX orders_date ON orders(order_date);
"""

FIRST_NAMES = [
    "Alice", "Alicia", "Ali", "Natalia", "Ben", "Bruno", "Carla", "Chen", "Dana", "David", "Elena", "Emil",
    "Fatima", "Felix", "Grace", "Hana", "Ivan", "Jonas", "Julia", "Kai", "Leila", "Liam", "Maya", "Mateo",
    "Nina", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Sofia", "Tariq", "Uma", "Victor", "Wei",
    "Yara", "Yusuf", "Zoe",
]
LAST_NAMES = [
    "Anders", "Baker", "Costa", "Diaz", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Lopez", "Moreau", "Nakamura", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Schmidt", "Silva", "Tanaka",
    "Umar", "Varga", "Weber", "Xu", "Yilmaz", "Zhang",
]
# location -> region: the region drives orders and monthly_sales.
LOCATIONS = {
    "New York": "Americas", "San Francisco": "Americas", "Toronto": "Americas", "São Paulo": "Americas",
    "London": "EMEA", "Berlin": "EMEA", "Paris": "EMEA",
    "Singapore": "APAC", "Tokyo": "APAC", "Sydney": "APAC",
}
# department -> (share of people, titles for individual contributors)
DEPARTMENTS = {
    "Engineering": (0.30, ["Software Engineer", "Senior Software Engineer", "Staff Engineer", "QA Engineer"]),
    "Sales": (0.20, ["Account Executive", "Sales Development Rep", "Senior Account Executive"]),
    "Marketing": (0.10, ["Marketing Specialist", "Content Writer", "Growth Analyst"]),
    "Support": (0.12, ["Support Engineer", "Customer Success Manager"]),
    "Product": (0.08, ["Product Manager", "Product Designer", "UX Researcher"]),
    "Finance": (0.08, ["Accountant", "Financial Analyst"]),
    "Operations": (0.07, ["Operations Analyst", "IT Administrator", "Office Manager"]),
    "HR": (0.05, ["HR Generalist", "Recruiter"]),
}
PRODUCTS = {  # category -> [(name, list price)]
    "Laptops": [("Nova 13", 1099.0), ("Nova 15 Pro", 1899.0), ("Orbit Air", 899.0), ("Orbit Max", 2499.0),
                ("Comet Book", 649.0), ("Comet Book Plus", 799.0)],
    "Monitors": [("Vista 24", 219.0), ("Vista 27 4K", 449.0), ("Vista 32 Curved", 599.0), ("Pulse 27 Gaming", 529.0),
                 ("Pulse 34 Ultrawide", 799.0), ("Vista Portable 15", 259.0)],
    "Accessories": [("Aurora Keyboard", 129.0), ("Aurora Mouse", 69.0), ("Dock Station X", 249.0),
                    ("Nebula Headset", 179.0), ("Webcam HD 1080", 89.0), ("Laptop Sleeve", 39.0)],
    "Software": [("Galaxy Office Suite", 149.0), ("Shield Antivirus", 59.0), ("Cloud Backup 1TB", 99.0),
                 ("DevTools Pro", 299.0), ("Design Studio", 399.0), ("Password Vault", 35.0)],
    "Services": [("Extended Warranty", 199.0), ("On-site Setup", 149.0), ("Data Migration", 349.0),
                 ("Training Day", 899.0), ("Priority Support", 499.0), ("Device Recycling", 29.0)],
}
STATUSES = (("completed", 0.90), ("returned", 0.06), ("cancelled", 0.04))


def _people(rng: random.Random) -> list[tuple[str, str]]:
    """USER_COUNT distinct (name, email) pairs; the CEO comes first."""
    people = [("Morgan Reyes", "morgan.reyes@galaxy.example")]
    seen = {people[0][0]}
    while len(people) < USER_COUNT:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in seen:  # unique names keep emails unique and lookups unambiguous
            seen.add(name)
            people.append((name, name.lower().replace(" ", ".") + "@galaxy.example"))
    return people


def _users(rng: random.Random) -> list[tuple[object, ...]]:
    people = _people(rng)
    locations = list(LOCATIONS)
    rows: list[tuple[object, ...]] = [(1, *people[0], "Executive", "Chief Executive Officer", "New York", None,
                                       "2015-03-02")]
    index = 1
    for department, (share, titles) in DEPARTMENTS.items():
        count = round(share * (USER_COUNT - 1)) if department != "HR" else USER_COUNT - len(rows)
        head_id = index + 1
        leads: list[int] = []
        for position in range(count):
            index += 1
            if position == 0:
                title, manager = f"Head of {department}", 1
            elif position <= max(1, count // 8):  # about one lead per eight people
                title, manager = f"{department} Lead", head_id
                leads.append(index)
            else:
                title, manager = rng.choice(titles), rng.choice(leads)
            hired = f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            rows.append((index, *people[index - 1], department, title, rng.choice(locations), manager, hired))
    return rows


def _products() -> list[tuple[object, ...]]:
    items = [(category, name, price) for category, entries in PRODUCTS.items() for name, price in entries]
    return [(number, name, category, price) for number, (category, name, price) in enumerate(items, start=1)]


def _month_weights() -> list[float]:
    # Steady growth plus a Q4 peak and a summer dip, so line charts have a shape worth looking at.
    seasonal = {1: 0.85, 2: 0.85, 3: 1.0, 4: 1.0, 5: 1.0, 6: 0.9, 7: 0.8, 8: 0.8, 9: 1.0, 10: 1.1, 11: 1.35, 12: 1.5}
    return [(1 + 0.03 * i) * seasonal[int(month[5:])] for i, month in enumerate(MONTHS)]


def _orders(rng: random.Random, users: list[tuple[object, ...]], products: list[tuple[object, ...]]
            ) -> list[tuple[object, ...]]:
    sellers = [row for row in users if row[3] == "Sales"]  # Sales books most orders, others a few
    month_weights = _month_weights()
    product_weights = [1000 / float(row[3]) ** 0.6 for row in products]  # cheaper things sell more often
    statuses, status_weights = zip(*STATUSES, strict=True)
    dates = []
    for month in rng.choices(MONTHS, weights=month_weights, k=ORDER_COUNT):
        year, number = int(month[:4]), int(month[5:])
        dates.append(f"{month}-{rng.randint(1, calendar.monthrange(year, number)[1]):02d}")
    dates.sort()  # ids follow the calendar, as in a real shop
    rows: list[tuple[object, ...]] = []
    for order_id, order_date in enumerate(dates, start=1):
        user = rng.choice(sellers) if rng.random() < 0.8 else rng.choice(users)
        product = rng.choices(products, weights=product_weights)[0]
        bulk = float(str(product[3])) < 300  # people buy mice by the box, laptops a few at a time
        weights = (50, 20, 12, 9, 6, 3) if bulk else (60, 25, 10, 5, 0, 0)
        quantity = rng.choices((1, 2, 3, 5, 10, 20), weights=weights)[0]
        discount = rng.choice((0.0, 0.0, 0.0, 0.05, 0.10, 0.15)) if quantity >= 5 else 0.0
        unit_price = round(float(product[3]) * (1 - discount), 2)
        status = rng.choices(statuses, weights=status_weights)[0]
        rows.append((order_id, user[0], product[0], order_date, quantity, unit_price,
                     round(quantity * unit_price, 2), LOCATIONS[str(user[5])], status))
    return rows


def _monthly_sales(orders: list[tuple[object, ...]], products: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Completed orders summed per month, region and category; every combination present (zeros too)."""
    category_of = {row[0]: str(row[2]) for row in products}
    keys = [(month, region, category)
            for month in MONTHS for region in sorted(set(LOCATIONS.values())) for category in PRODUCTS]
    revenue = dict.fromkeys(keys, 0.0)
    units = dict.fromkeys(keys, 0)
    for _, _, product_id, order_date, quantity, _, total, region, status in orders:
        if status == "completed":
            key = (str(order_date)[:7], str(region), category_of[product_id])
            revenue[key] += float(str(total))
            units[key] += int(str(quantity))
    return [(*key, round(revenue[key], 2), units[key]) for key in keys]


def _fill(connection: sqlite3.Connection, seed: int) -> None:
    rng = random.Random(seed)
    connection.executescript(SCHEMA)
    users = _users(rng)
    products = _products()
    orders = _orders(rng, users, products)
    connection.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", users)
    connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", products)
    connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
    connection.executemany("INSERT INTO monthly_sales VALUES (?, ?, ?, ?, ?)", _monthly_sales(orders, products))
    connection.commit()


def build_sample_database(path: Path, seed: int = SEED) -> Path:
    """Write the sample database to `path`, replacing it atomically (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        with closing(sqlite3.connect(temp)) as connection:
            _fill(connection, seed)
        os.replace(temp, path)  # atomic on POSIX and Windows when on the same filesystem
    finally:
        temp.unlink(missing_ok=True)
    return path


def sample_database_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def ensure_sample_database(data_dir: Path) -> Path:
    """`data_dir/sample.db`, built only when it does not exist yet (a user's edited copy is kept)."""
    path = sample_database_path(data_dir)
    return path if path.exists() else build_sample_database(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("usage: python -m galaxy_chat.data.sample_database [path]   (default: data/sample.db)")
        return 0 if args and args[0] in ("-h", "--help") else 2
    path = build_sample_database(Path(args[0]) if args else Path("data") / FILE_NAME)
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("users", "products", "orders", "monthly_sales")}
    print(f"wrote {path}: " + ", ".join(f"{count} {table}" for table, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
