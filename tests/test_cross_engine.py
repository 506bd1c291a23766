"""The same warehouse content gives the same figures.json on PostgreSQL and DuckDB."""

from __future__ import annotations

import json
import shutil

import pytest

from lgs_reports.analyses import analyse
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.figures_json import build_figures, figures_json
from lgs_reports.periods import parse_period
from lgs_reports.recommendations import recommend
from lgs_reports.warehouse import Warehouse
from tests.pgserver import throwaway_database

PERIODS = ["2011", "2011-Q4", "2011-11", "2011-12", "2010-12", "2010", "2010-Q1"]

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sample_warehouses(tmp_path_factory, duckdb_sample, postgres_sample, pg_url, pg_admin):
    path = tmp_path_factory.mktemp("x") / "sample.duckdb"
    shutil.copyfile(duckdb_sample, path)
    duck = Warehouse(f"duckdb:///{path}")
    with throwaway_database(pg_url, pg_admin, "lgs_cross_engine", template=postgres_sample) as url:
        pg = Warehouse(url)
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
