"""The segment registry: one record per segment, and everything named after it agrees."""

from __future__ import annotations

import dataclasses

from lgs_reports import config, segment_names
from lgs_reports.segment_names import SEGMENTS, hyphenated, segment


def test_every_segment_has_its_action_setting_and_nothing_else_does():
    keys = [segment(name).key for name in SEGMENTS]
    assert keys == [f.name for f in dataclasses.fields(config.ActionSettings)]
    assert config.SEGMENTS is segment_names.SEGMENTS


def test_names_keys_and_files_are_what_the_archive_and_settings_spell():
    cant_lose = segment("Can't Lose")
    assert (cant_lose.key, cant_lose.csv_file) == ("cant_lose", "segments/cant-lose.csv")
    assert segment("About to Sleep").csv_file == "segments/about-to-sleep.csv"
    assert len({segment(name).csv_file for name in SEGMENTS}) == len(SEGMENTS)


def test_the_plural_noun_of_a_segment():
    assert segment("Champions").customers == "Champions"
    assert segment("Loyal Customers").customers == "Loyal Customers"
    assert segment("At Risk").customers == "At Risk customers"


def test_soft_hyphens_change_nothing_but_where_a_name_may_break():
    for name in SEGMENTS:
        assert hyphenated(name).replace("\u00ad", "") == name
    assert hyphenated("Champions") == "Cham\u00adpions"
    assert hyphenated("Lapsed") == "Lapsed"  # a migration heading that is not a segment
