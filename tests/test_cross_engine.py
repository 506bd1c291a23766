"""The same warehouse content gives the same figures.json on PostgreSQL and DuckDB."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from lgs_reports.analyses import analyse
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.figures_json import build_figures, figures_json
from lgs_reports.periods import parse_period
from lgs_reports.recommendations import recommend
from lgs_reports.sample import load_sample
from lgs_reports.warehouse import Warehouse

PERIODS = ["2011", "2011-Q4", "2011-11", "2011-12", "2010-12", "2010", "2010-Q1"]

pytestmark = pytest.mark.postgres


@contextlib.contextmanager
def throwaway_database(pg_url: str, pg_admin: Engine, name: str) -> Iterator[str]:
    """A new database on the test server for a module's warehouse: its URL, dropped after."""
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def sample_warehouses(tmp_path_factory, pg_url, pg_admin):
    duck = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('x') / 'sample.duckdb'}")
    with throwaway_database(pg_url, pg_admin, "lgs_cross_engine") as url:
        pg = Warehouse(url)
        for wh in (duck, pg):
            load_sample(wh)
        yield duck, pg
        for wh in (duck, pg):
            wh.dispose()


def figures_of(warehouse: Warehouse, period: str) -> dict:
    with warehouse.reader() as reader:
        data = fetch(reader, parse_period(period), rfm_window_days=365)
    analysis = analyse(data, load_settings(env={}))
    figures = build_figures(analysis, recommend(analysis))
    for load in figures["data_quality"]["loads"]:
        load.pop("loaded_at")  # when each engine was loaded: the only legitimate difference
    return json.loads(figures_json(figures))


@pytest.mark.parametrize("period", PERIODS)
def test_figures_identical_on_both_engines(sample_warehouses, period):
    duck, pg = sample_warehouses
    on_duckdb, on_postgres = figures_of(duck, period), figures_of(pg, period)
    for section in on_duckdb:
        assert on_duckdb[section] == on_postgres[section], f"{period}: {section} differs"
    assert on_duckdb["sample_data"] is True
