"""A deterministic sample warehouse, so that the first run gives a real-looking brief.

The generated lines have the shape of the real extract: the same window (1 Dec
2009 to 9 Dec 2011), a strong September-November season, about a quarter of
lines from guests (no customer id), about 15% of invoices cancelled but only
~2% of lines, a UK majority among about 40 countries, wholesalers who buy
every few weeks beside occasional buyers, exact duplicate lines (most of them a
product keyed twice on one order, about 1,300 a double export of 1-3 Dec 2010),
a few bad-debt adjustments, service
codes (POST, DOT, M, BANK CHARGES) and zero prices. The same seed gives the
same rows on every machine, so a brief built from the sample is reproducible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from lgs_reports.errors import LoadError
from lgs_reports.load.loader import LoadResult, load_frames
from lgs_reports.load.readers import typed_rows
from lgs_reports.queries import execute
from lgs_reports.warehouse import Warehouse

SEED = 2011
FIRST_DAY = dt.date(2009, 12, 1)
LAST_MOMENT = dt.datetime(2011, 12, 9, 12, 50)
FINGERPRINT = hashlib.sha256(f"lgs-reports sample v1 seed {SEED}".encode()).hexdigest()
NAME = "generated sample (lgs-reports sample)"

# Relative order volume by calendar month: flat spring and summer, a strong autumn.
SEASON = {
    1: 0.72,
    2: 0.70,
    3: 0.92,
    4: 0.82,
    5: 0.90,
    6: 0.90,
    7: 0.88,
    8: 0.90,
    9: 1.30,
    10: 1.50,
    11: 1.75,
    12: 1.00,
}

COUNTRIES = [
    ("United Kingdom", 880),
    ("Germany", 22),
    ("France", 20),
    ("EIRE", 8),
    ("Spain", 8),
    ("Netherlands", 6),
    ("Belgium", 6),
    ("Switzerland", 5),
    ("Portugal", 5),
    ("Italy", 4),
    ("Australia", 4),
    ("Sweden", 3),
    ("Norway", 3),
    ("Finland", 3),
    ("Denmark", 3),
    ("Austria", 3),
    ("Channel Islands", 3),
    ("Cyprus", 2),
    ("Poland", 2),
    ("Japan", 2),
    ("USA", 2),
    ("Greece", 2),
    ("Israel", 2),
    ("Iceland", 2),
    ("Canada", 2),
    ("Malta", 2),
    ("Singapore", 2),
    ("Lithuania", 2),
    ("United Arab Emirates", 2),
    ("Bahrain", 2),
    ("Czech Republic", 2),
    ("Brazil", 2),
    ("Lebanon", 2),
    ("RSA", 2),
    ("Korea", 2),
    ("Thailand", 2),
    ("Nigeria", 2),
    ("West Indies", 2),
    ("Saudi Arabia", 2),
    ("Bermuda", 2),
]
ADJECTIVES = [
    "VINTAGE",
    "RED",
    "PINK",
    "BLUE",
    "WHITE",
    "HEART",
    "FLORAL",
    "RETRO",
    "STAR",
    "REGENCY",
    "GLASS",
    "WOODEN",
    "ENAMEL",
    "PAPER",
    "CERAMIC",
    "SPOTTY",
    "GREEN",
    "IVORY",
    "SWEETHEART",
    "CHRISTMAS",
    "JUMBO",
    "PAISLEY",
    "SCANDINAVIAN",
    "ZINC",
]
NOUNS = [
    "T-LIGHT HOLDER",
    "LUNCH BAG",
    "CAKE STAND",
    "BUNTING",
    "DOORMAT",
    "MUG",
    "TEA SET",
    "JAM JAR",
    "PHOTO FRAME",
    "CANDLE",
    "GIFT WRAP",
    "NOTEBOOK",
    "CUSHION COVER",
    "BAKING SET",
    "STORAGE TIN",
    "WATER BOTTLE",
    "CHALKBOARD",
    "GARLAND",
    "HANGING HEART",
    "PARTY BUNTING",
    "SHOPPING BAG",
    "CLOCK",
    "TRINKET BOX",
    "NAPKINS",
]
PRICES = np.array(
    [
        0.29,
        0.39,
        0.42,
        0.55,
        0.65,
        0.85,
        0.95,
        1.25,
        1.45,
        1.65,
        1.95,
        2.10,
        2.55,
        2.95,
        3.25,
        3.75,
        4.25,
        4.95,
        5.95,
        6.75,
        7.95,
        8.50,
        9.95,
        12.75,
    ]
)
WHOLESALE_QTY = np.array([6, 12, 12, 24, 24, 36, 48, 72, 96, 144])
RETAIL_QTY = np.array([1, 1, 2, 2, 3, 4, 6, 6, 12, 12])
BATCH = 100_000
SERVICE_CODES = ("POST", "DOT", "M", "BANK CHARGES")


def _products(rng: np.random.Generator, n: int = 700) -> pd.DataFrame:
    codes = rng.choice(np.arange(10000, 99999), size=n, replace=False).astype(str)
    suffix = rng.choice(["", "", "", "", "", "A", "B", "C", "L", "S"], size=n)
    words = [
        f"{rng.choice(ADJECTIVES)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}" for _ in range(n)
    ]
    weights = rng.pareto(1.3, size=n) + 0.05
    return pd.DataFrame(
        {
            "stock_code": np.char.add(codes, suffix),
            "description": words,
            "price": rng.choice(PRICES, size=n, p=_falling(len(PRICES))),
            "weight": weights / weights.sum(),
        }
    ).drop_duplicates("stock_code", ignore_index=True)


def _falling(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** 0.6
    return w / w.sum()


def _days() -> tuple[np.ndarray, np.ndarray]:
    """Every trading day of the window and its seasonal weight (no Saturdays, like LGS)."""
    days = pd.date_range(FIRST_DAY, LAST_MOMENT.date(), freq="D")
    days = days[days.day_of_week != 5]
    weights = np.array([SEASON[d.month] for d in days]) * np.where(days.day_of_week == 6, 0.5, 1.0)
    weights *= 1.0 + 0.12 * (days.year.to_numpy() - 2010)  # a little growth, mostly from 2011
    return days.to_numpy(), weights


def _orders(rng: np.random.Generator) -> pd.DataFrame:
    """One row per placed order: day, customer (or none), country, kind."""
    days, season = _days()
    n_days = len(days)
    rows = []
    n_customers = 1900
    ids = rng.choice(np.arange(12346, 18288), size=n_customers, replace=False)
    names, weights = zip(*COUNTRIES, strict=True)
    countries = rng.choice(names, size=n_customers, p=np.array(weights) / sum(weights))
    wholesale = rng.random(n_customers) < 0.22
    already = rng.random(n_customers) < 0.30  # customers from before the extract
    start = np.where(already, 0, rng.choice(n_days, size=n_customers, p=season / season.sum()))
    life = np.where(wholesale, rng.exponential(900, n_customers), rng.exponential(260, n_customers))
    end = np.minimum(n_days, start + (life * 6 / 7).astype(int) + 1)
    gap = np.where(wholesale, rng.uniform(8, 30, n_customers), rng.uniform(45, 160, n_customers))
    for i in range(n_customers):
        span = season[start[i] : end[i]]
        expected = span.sum() / gap[i] * (6 / 7)
        count = max(1, rng.poisson(expected))
        picked = start[i] + rng.choice(len(span), size=count, p=span / span.sum())
        rows.append(
            pd.DataFrame(
                {
                    "day": days[picked],
                    "customer_id": ids[i],
                    "country": countries[i],
                    "kind": "w" if wholesale[i] else "r",
                }
            )
        )
    customers = pd.concat(rows, ignore_index=True)
    n_guest = int(len(customers) * 0.12)
    guest_days = rng.choice(n_days, size=n_guest, p=season / season.sum())
    guests = pd.DataFrame(
        {
            "day": days[guest_days],
            "customer_id": pd.NA,
            "country": rng.choice(["United Kingdom"] * 9 + ["EIRE", "France"], size=n_guest),
            "kind": "g",
        }
    )
    orders = pd.concat([customers, guests], ignore_index=True)
    minutes = rng.integers(7 * 60, 19 * 60, size=len(orders))
    orders["when"] = pd.to_datetime(orders["day"]) + pd.to_timedelta(minutes, unit="min")
    orders = orders[orders["when"] <= LAST_MOMENT]
    return orders.sort_values(["when", "kind"], ignore_index=True)


def _lines(rng: np.random.Generator, orders: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    size_by_kind = {"w": 24, "r": 9, "g": 48}
    counts = np.array([1 + rng.poisson(size_by_kind[k]) for k in orders["kind"]])
    order_idx = np.repeat(np.arange(len(orders)), counts)
    product_idx = rng.choice(len(products), size=len(order_idx), p=products["weight"].to_numpy())
    kinds = orders["kind"].to_numpy()[order_idx]
    qty = np.where(
        kinds == "w",
        rng.choice(WHOLESALE_QTY, size=len(order_idx)),
        rng.choice(RETAIL_QTY, size=len(order_idx)),
    )
    price = products["price"].to_numpy()[product_idx]
    price = np.where(kinds == "g", np.round(price * 2.0, 2), price)  # guests pay retail prices
    zero = rng.random(len(order_idx)) < 0.003
    price = np.where(zero, 0.0, price)
    lines = pd.DataFrame(
        {
            "order": order_idx,
            "stock_code": products["stock_code"].to_numpy()[product_idx],
            "description": products["description"].to_numpy()[product_idx],
            "quantity": qty,
            "unit_price": price,
        }
    )
    # service codes: postage on foreign orders, carriage on guest orders, manual lines
    foreign = np.flatnonzero(
        (orders["country"] != "United Kingdom").to_numpy() & (rng.random(len(orders)) < 0.6)
    )
    dot = np.flatnonzero((orders["kind"] == "g").to_numpy() & (rng.random(len(orders)) < 0.5))
    manual = np.flatnonzero(rng.random(len(orders)) < 0.01)
    bank = np.flatnonzero(rng.random(len(orders)) < 0.002)
    extra = pd.concat(
        [
            _service(foreign, "POST", "POSTAGE", rng.choice([18.0, 28.0, 40.0], len(foreign))),
            _service(dot, "DOT", "DOTCOM POSTAGE", np.round(rng.uniform(20, 900, len(dot)), 2)),
            _service(manual, "M", "Manual", np.round(rng.uniform(0.5, 60, len(manual)), 2)),
            _service(bank, "BANK CHARGES", "Bank Charges", np.full(len(bank), 15.0)),
        ]
    )
    return pd.concat([lines, extra], ignore_index=True)


def _service(orders: np.ndarray, code: str, text: str, price: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order": orders,
            "stock_code": code,
            "description": text,
            "quantity": 1,
            "unit_price": price,
        }
    )


def _cancellations(
    rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """About one registered customer's order in five has a line or two cancelled days later."""
    registered = np.flatnonzero(orders["kind"].to_numpy() != "g")
    source = registered[rng.random(len(registered)) < 0.20]
    delay = pd.to_timedelta(rng.integers(60, 20 * 24 * 60, size=len(source)), unit="min")
    cancels = orders.iloc[source].copy()
    cancels["when"] = cancels["when"].to_numpy() + delay.to_numpy()
    cancels["kind"] = "c"
    cancels["source"] = source
    cancels = cancels[cancels["when"] <= LAST_MOMENT]
    cancels.index = pd.RangeIndex(len(orders), len(orders) + len(cancels))
    new_id = pd.Series(cancels.index, index=cancels["source"].to_numpy())
    keep = pd.Series(1 + rng.integers(0, 3, size=len(cancels)), index=new_id.index)
    taken = lines[lines["order"].isin(new_id.index) & ~lines["stock_code"].isin(SERVICE_CODES)]
    taken = taken[taken.groupby("order").cumcount() < keep.reindex(taken["order"]).to_numpy()]
    cancel_lines = taken.assign(
        order=new_id.reindex(taken["order"]).to_numpy(), quantity=-taken["quantity"]
    )
    return cancels.drop(columns="source"), cancel_lines


def _adjustments(first_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three bad-debt adjustments in August 2011, as in the real extract."""
    orders = pd.DataFrame(
        {
            "customer_id": pd.NA,
            "country": "United Kingdom",
            "kind": "a",
            "when": pd.to_datetime(["2011-08-12 14:50", "2011-08-12 14:51", "2011-08-12 14:52"]),
        },
        index=pd.RangeIndex(first_id, first_id + 3),
    )
    lines = pd.DataFrame(
        {
            "order": orders.index,
            "stock_code": "B",
            "description": "Adjust bad debt",
            "quantity": 1,
            "unit_price": [11062.06, -11062.06, 1526.50],
        }
    )
    return orders, lines


def generate(seed: int = SEED) -> Iterator[pd.DataFrame]:
    """The sample's lines in the warehouse's typed columns, in batches, in invoice order."""
    rng = np.random.default_rng(seed)
    products = _products(rng)
    orders = _orders(rng)
    lines = _lines(rng, orders, products)
    cancels, cancel_lines = _cancellations(rng, orders, lines)
    adjust, adjust_lines = _adjustments(len(orders) + len(cancels))
    all_orders = pd.concat([orders, cancels, adjust]).sort_values("when", kind="stable")
    number = pd.Series(np.arange(489434, 489434 + len(all_orders)), index=all_orders.index)
    prefix = all_orders["kind"].map({"c": "C", "a": "A"}).fillna("")
    all_orders["invoice_no"] = prefix + number.astype(str)
    all_lines = pd.concat([lines, cancel_lines, adjust_lines], ignore_index=True)
    all_lines["order"] = all_lines["order"].astype(int)
    joined = all_lines.join(
        all_orders[["invoice_no", "when", "customer_id", "country"]], on="order"
    )
    joined = joined.sort_values(["when", "invoice_no"], kind="stable", ignore_index=True)
    joined = _with_duplicates(rng, joined)
    frame = typed_rows({**joined, "invoice_date": joined["when"]})
    for start in range(0, len(frame), BATCH):
        yield frame.iloc[start : start + BATCH].reset_index(drop=True)


def _with_duplicates(rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    """Exact copies: 1% scattered, and all of 1-3 Dec 2010 exported twice."""
    scattered = lines[rng.random(len(lines)) < 0.01]
    days = lines["when"].dt.normalize()
    export = lines[(days >= "2010-12-01") & (days <= "2010-12-03")]
    both = pd.concat([lines, scattered, export])
    return both.sort_values(["when", "invoice_no"], kind="stable", ignore_index=True)


def load_sample(warehouse: Warehouse) -> LoadResult:
    """Generate the sample into an empty warehouse (never beside real data)."""
    with warehouse.begin() as conn:
        warehouse.ensure_schema(conn)
        done = execute(conn, "load/registered_load", sha256=FINGERPRINT).scalar_one()
        rows = execute(conn, "load/retail_lines").scalar_one()
    if done is not None:
        return LoadResult(NAME, None, "sample", 0, 0, 0, 0.0, already_loaded_as=done)
    if rows:
        raise LoadError(
            f"the warehouse {warehouse.safe_url} already holds {rows:,} lines; the sample goes "
            "only into an empty warehouse (point LGS_DATABASE_URL at a new one)"
        )
    return load_frames(warehouse, generate(), name=NAME, fingerprint=FINGERPRINT)
