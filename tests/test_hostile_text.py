"""Text from the data reaches the brief as it is stored: never interpreted, never fetched.

A warehouse is loaded, through ``lgs-reports load``, from a CSV whose every text
column (invoice, stock code, description, country) holds hostile text: long and
unbroken, matplotlib math (``$...$``), HTML, Jinja, a right-to-left override,
an emoji and control characters (no NUL: PostgreSQL text cannot hold it). The
brief is built by the CLI and its PDF read back with ``pdftotext`` (pypdf
garbles text outside Latin-1 in these fonts).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import unicodedata
from pathlib import Path

import pytest

HOSTILE = (
    "L" * 130,  # a country of 115+ characters made the countries chart fail
    "Unbroken" + "x" * 60,  # ran over its neighbours in the table
    r"$\notacommand$",  # crashed matplotlib's math parser
    r"$\frac{1}{2}$ Land",  # was drawn as "½ Land"
    '<b>bold</b><img src="http://127.0.0.1:9/x.png">',
    "{{ 7*7 }} {% if true %}yes{% endif %}",
    "abc\u202edef",  # a right-to-left override: "abcfed" on the page
    "Gift \U0001f381 Land",
    "Ctl\x01\x07\t\n\x1b\x7fland",
)
LONG_CODE = "S" * 299 + "Z"  # a 300-character stock code
PERIOD = "2011-11"

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def hostile_rows() -> list[tuple[object, ...]]:
    """Two invoices per hostile text, in October and November 2011; the longest name sells most."""
    rows = []
    for i, text in enumerate(HOSTILE):
        code = LONG_CODE if i == 0 else text
        for month in (10, 11):
            rows.append(
                (
                    f"{month}{i:02d}{text}",  # a placed invoice starts with a digit
                    code,
                    text,
                    100 * (20 - i),
                    f"2011-{month:02d}-03 10:00:00",
                    "2.50",
                    20000 + i,
                    text,
                )
            )
    return rows


def squashed(text: str) -> str:
    """Text without white space and invisible format characters, as a PDF's text can be
    compared: wrapping moves line breaks, and an override has no glyph to extract."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def test_a_brief_of_hostile_text_shows_it_literally(
    run_cli, inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(["load", inputs.csv("hostile.csv", hostile_rows())])
    assert code == 0, err
    connections: list[object] = []
    connect = socket.socket.connect

    def recorded(self: socket.socket, address: object) -> None:
        connections.append(address)
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recorded)
    code, _, err = run_cli(["--period", PERIOD, "--no-email"])
    assert code == 0, err
    assert connections == [] and "refused to fetch" not in err  # nothing was even tried
    # every line is a log line: nothing from the data broke out of one
    assert all(
        re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+ ", line) for line in err.splitlines()
    )
    folder = tmp_path / "output" / PERIOD / "r1"

    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert {r["country"] for r in figures["countries"]["rows"]} == set(HOSTILE)
    assert figures["countries"]["rows"][0]["country"] == HOSTILE[0]  # drawn in the chart
    codes = {c["stock_code"] for c in figures["data_quality"]["non_product_codes"]}
    assert codes == {LONG_CODE, *HOSTILE[1:]}

    pdf = folder / f"lgs-brief-{PERIOD}.pdf"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    page = squashed(text)
    for hostile in (*HOSTILE, LONG_CODE):
        assert squashed(hostile) in page, hostile
    assert "abcfed" not in page  # the override turned nothing around
    assert "½" not in page  # no math was typeset
    assert "L" * 31 + "…" in page  # the chart's label, shortened
    assert not words_off_the_page(pdf)  # long text wraps in its cell


def words_off_the_page(pdf: Path) -> list[str]:
    """The words of a PDF that reach beyond the right edge of their page."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    off = []
    for page in re.finditer(r'<page width="([\d.]+)".*?</page>', boxes, re.S):
        width = float(page.group(1))
        for word in re.finditer(r'<word [^>]*xMax="([\d.]+)"[^>]*>([^<]*)</word>', page.group(0)):
            if float(word.group(1)) > width:
                off.append(word.group(2))
    return off
