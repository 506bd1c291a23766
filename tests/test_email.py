"""The email a director reads: subject, three sentences, the KPIs, attachments, on real SMTP.

Each test archives a brief (figures built by hand from tests/data/figures_small.json,
whose numbers are the real 2011 ones), sends it to a local aiosmtpd server, and
reads what arrived with the standard email parser. The expected sentences are
worked out from the figures in the test, by hand.
"""

from __future__ import annotations

import collections
import copy
import html.parser
import re
from pathlib import Path
from typing import Any

import pytest

from lgs_reports.archive import RevisionStore
from lgs_reports.config import load_settings
from lgs_reports.mail import deliver_report
from tests.test_delivery import (
    PDF,
    WHEN,
    Inbox,
    attachments,
    bodies,
    make_settings,
    smtp_server,
)

ALICE = "alice@lgs.example"
CSVS = {
    "segments/champions.csv": b"customer_id,country,monetary\n12347,Iceland,4310.00\n",
    "segments/at-risk.csv": b"customer_id,country,monetary\n12350,Norway,334.40\n",
}


# --------------------------------------------------------------------------- figures


def full_year(small: dict[str, Any]) -> dict[str, Any]:
    """2011 as if the data ran to 31 Dec: no partial period, compared with the whole of 2010."""
    figures = copy.deepcopy(small)
    figures["period"].update(data_end="2011-12-31", partial=False, partial_note=None)
    for c in figures["comparisons"]:
        c["title"] = {"current": "2011", "yoy": "2010"}[c["key"]]
    for k in figures["kpis"]:
        k["comparison"] = k["comparisons"]["yoy"]["title"] = "2010"
    return figures


def yoy_mom(value: float, yoy: tuple[float, float], mom: tuple[float, float], **kpi: Any):
    """A KPI of December 2011 (to 9 Dec) against the same days of 2010 and of November."""
    compared = {"current": None, "lookback_months": None, "note": None, "available": True}
    return {
        "value": value,
        "higher_is_better": True,
        "change_kind": "relative",
        "comparison": "1 Dec – 9 Dec 2010",
        "previous": yoy[0],
        "change": yoy[1],
        "comparisons": {
            "yoy": {**compared, "title": "1 Dec – 9 Dec 2010", "value": yoy[0], "change": yoy[1]},
            "mom": {**compared, "title": "1 Nov – 9 Nov 2011", "value": mom[0], "change": mom[1]},
        },
        **kpi,
    }


def period(
    label: str,
    kind: str,
    title: str,
    days: tuple[str, str],
    *,
    lookback_months: int,
    data_end: str | None = None,
    partial_note: str | None = None,
) -> dict[str, Any]:
    """figures.json's period: ``days`` its first and last; the data starts with it, and
    ends with it unless ``data_end`` says otherwise (partial, as ``partial_note`` says)."""
    start, end = days
    return {
        "label": label,
        "kind": kind,
        "title": title,
        "start": start,
        "end": end,
        "data_start": start,
        "data_end": data_end or end,
        "partial": data_end is not None,
        "partial_note": partial_note,
        "lookback_months": lookback_months,
    }


def partial_month(small: dict[str, Any]) -> dict[str, Any]:
    """December 2011, whose data ends on the 9th (the real numbers of the brief)."""
    figures = copy.deepcopy(small)
    figures["period"] = period(
        "2011-12",
        "month",
        "December 2011",
        ("2011-12-01", "2011-12-31"),
        data_end="2011-12-09",
        partial_note="data through 9 Dec 2011: December has 9 of 31 days",
        lookback_months=24,
    )
    figures["comparisons"] = [
        {"key": "current", "available": True, "title": "1 Dec – 9 Dec 2011"},
        {"key": "yoy", "available": True, "title": "1 Dec – 9 Dec 2010"},
        {"key": "mom", "available": True, "title": "1 Nov – 9 Nov 2011"},
    ]
    figures["kpis"] = [
        yoy_mom(
            432719.06,
            (344721.94, 0.25527),
            (396559.08, 0.091184),
            key="net_sales",
            label="Net sales",
            unit="GBP",
        ),
        yoy_mom(
            0.138478,
            (0.095519, 0.042959),
            (0.14758, -0.009102),
            key="cancellation_rate",
            label="Cancellation rate",
            unit="ratio",
            higher_is_better=False,
            change_kind="points",
        ),
    ]
    figures["growth_bridge"] = {
        "comparison": "1 Dec – 9 Dec 2010",
        "previous_net": 344721.94,
        "current_net": 432719.06,
        "change": 87997.12,
        "splits": [
            {
                "key": "market",
                "title": "By market",
                "parts": [
                    {"key": "home", "label": "United Kingdom", "change": 75666.28},
                    {"key": "abroad", "label": "Outside the United Kingdom", "change": 12330.84},
                ],
            }
        ],
        "driver": {"split": "market", "key": "home", "label": "United Kingdom", "change": 75666.28},
    }
    return figures


def no_comparison(small: dict[str, Any]) -> dict[str, Any]:
    """2010: the data starts on 1 Dec 2009, too late for a comparison with 2009."""
    figures = copy.deepcopy(small)
    figures["period"] = period(
        "2010", "year", "2010", ("2010-01-01", "2010-12-31"), lookback_months=1
    )
    reason = "the data starts 1 Dec 2009"
    figures["comparisons"] = [
        {"key": "current", "available": True, "title": "2010"},
        {"key": "yoy", "available": False, "title": "2009", "reason": reason},
    ]
    missing = {"title": "2009", "available": False, "value": None, "change": None}
    for k in figures["kpis"]:
        k.update(previous=None, change=None, comparison="2009")
        k["comparisons"] = {"yoy": {**missing, "note": f"no comparison: {reason}"}}
    figures["kpis"][0]["value"] = 9216135.87
    figures["growth_bridge"] = None
    for r in figures["recommendations"]:
        r["at_stake"] = None
    figures["recommendations"][0]["title"] = "Keep the Champions"
    return figures


# --------------------------------------------------------------------------- helpers


def send(tmp_path: Path, figures: dict[str, Any], *, files: dict[str, bytes] | None = None, **kw):
    """Archive a brief of ``figures`` and email it to Alice; the message as she got it."""
    period = figures["period"]["label"]
    blobs = files or {f"lgs-brief-{period}.pdf": PDF, **CSVS}
    report = RevisionStore(tmp_path).archive(
        period, {"figures.json": b"{}", **blobs}, fingerprint={}, created_at=WHEN
    )
    handler = Inbox()
    with smtp_server(handler) as port:
        deliver_report(make_settings(tmp_path, port, to=(ALICE,), **kw), report, figures, now=WHEN)
    (message,) = handler.parsed()
    return message


def story(text: str) -> tuple[str, str, str]:
    """The three sentences of the plain-text part."""
    found = re.search(r"What happened\. (.*)\n\nWhy\. (.*)\n\nWhat to do\. (.*)\n", text)
    assert found, text
    return found.group(1), found.group(2), found.group(3)


class _Body(html.parser.HTMLParser):
    """The visible text of an HTML body (not its <head>), and each change's colour."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.changes: list[tuple[str, str]] = []  # (style, text) of each coloured change
        self._head = False
        self._change: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._head = self._head or tag == "head"
        if tag == "span" and "change" in (found.get("class") or "").split():
            self._change = found.get("style") or ""

    def handle_endtag(self, tag: str) -> None:
        self._head = self._head and tag != "head"

    def handle_data(self, data: str) -> None:
        if self._head:
            return
        self.text.append(data)
        if self._change is not None:
            self.changes.append((self._change, data))
            self._change = None


def visible(markup: str) -> _Body:
    body = _Body()
    body.feed(markup)
    return body


NUMBER = re.compile(r"[−+±]?£?\d[\d,.]*(?:[km%]| pp)?")


# --------------------------------------------------------------------------- subject and story


def test_a_full_year(tmp_path: Path, figures: dict[str, Any]) -> None:
    message = send(tmp_path, full_year(figures))
    assert message["Subject"] == "LGS brief 2011: net sales £8.99m, +2.0% on 2010"
    text, _ = bodies(message)
    assert story(text) == (
        "Net sales were £8.99m in 2011, up 2.0% on 2010 (£8.81m).",
        # figures_small's bridge: outside the UK +215,501.96, the UK −39,272.76; two accounts
        # outweigh the whole change of +176,229.20, as the PDF's summary says
        "The biggest driver was sales outside the United Kingdom, up £216k, while sales in "
        "the United Kingdom fell £39k; two accounts made more than the whole change: "
        "90003 (+£139k) and 90013 (+£104k).",
        "Hold on to the Loyal Customers: £562k of the next 12 months' net sales is at stake.",
    )


def test_a_partial_year_says_so_in_the_subject_and_the_first_sentence(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    message = send(tmp_path, figures)
    assert message["Subject"] == "LGS brief 2011 (to 9 Dec): net sales £8.99m, +2.0% on 2010"
    happened, _, _ = story(bodies(message)[0])
    assert happened == (
        "Net sales were £8.99m in 1 Jan – 9 Dec 2011, up 2.0% on 1 Jan – 9 Dec 2010 (£8.81m); "
        "a partial period (data through 9 Dec 2011: December has 9 of 31 days; 2011 has 343 of "
        "365 days)."
    )


def test_a_partial_month(tmp_path: Path, figures: dict[str, Any]) -> None:
    message = send(tmp_path, partial_month(figures))
    assert message["Subject"] == (
        "LGS brief Dec 2011 (to 9 Dec): net sales £433k, +25.5% on Dec 2010"
    )
    text, markup = bodies(message)
    assert story(text) == (
        "Net sales were £433k in 1 Dec – 9 Dec 2011, up 25.5% on 1 Dec – 9 Dec 2010 (£345k); "
        "a partial period (data through 9 Dec 2011: December has 9 of 31 days).",
        "The biggest driver was sales in the United Kingdom, up £76k, and sales outside the "
        "United Kingdom rose £12k.",
        "Hold on to the Loyal Customers: £562k of the next 12 months' net sales is at stake.",
    )
    # The brief's colours: cancellations up 4.3 points is bad (red), down 0.9 is good (green).
    assert visible(markup).changes == [
        ("color: #2e7d32; font-weight: bold; white-space: nowrap;", "▲\ufe0e +25.5%"),
        ("color: #2e7d32; font-weight: bold; white-space: nowrap;", "▲\ufe0e +9.1%"),
        ("color: #c62828; font-weight: bold; white-space: nowrap;", "▲\ufe0e +4.3 pp"),
        ("color: #2e7d32; font-weight: bold; white-space: nowrap;", "▼\ufe0e −0.9 pp"),
    ]
    assert "- Cancellation rate: 13.8%\n    ▲ +4.3 pp vs 1 Dec – 9 Dec 2010 (9.6%): worse\n" in text


def test_a_period_without_comparison(tmp_path: Path, figures: dict[str, Any]) -> None:
    message = send(tmp_path, no_comparison(figures))
    assert message["Subject"] == "LGS brief 2010: net sales £9.22m, no comparison"
    text, markup = bodies(message)
    assert story(text) == (
        "Net sales were £9.22m in 2010; there is no comparison with 2009 (the data starts "
        "1 Dec 2009).",
        "With nothing to compare it with, the brief cannot yet say what moved sales; the PDF "
        "shows the months' trend.",
        "Keep the Champions (the revenue at stake could not be estimated).",
    )
    assert "- Net sales: £9.22m\n    no comparison with 2009\n" in text
    assert "no comparison with 2009" in " ".join(visible(markup).text)


def test_without_a_bridge_the_biggest_kpi_move_says_why(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    december = partial_month(figures)
    december["growth_bridge"] = None  # e.g. a month compared with the month before only
    _, why, _ = story(bodies(send(tmp_path, december))[0])
    # net sales aside, the largest change: cancellation rate +0.042959 (points) against
    # its month-before −0.009102, told against the year before first
    assert why == (
        "The biggest move among the headline figures was in cancellation rate: +4.3 pp on "
        "1 Dec – 9 Dec 2010, for the worse."
    )


def test_the_subject_template_has_documented_placeholders(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    message = send(tmp_path, figures, subject="{company} | {period} | {headline} {{ok}}")
    assert message["Subject"] == (
        "London Gift Shop | 2011 (to 9 Dec) | net sales £8.99m, +2.0% on 2010 {ok}"
    )


# --------------------------------------------------------------------------- the two parts


def test_the_html_and_text_parts_say_the_same(tmp_path: Path, figures: dict[str, Any]) -> None:
    text, markup = bodies(send(tmp_path, figures))
    shown = " ".join(visible(markup).text)
    assert collections.Counter(NUMBER.findall(text)) == collections.Counter(NUMBER.findall(shown))
    for sentence in story(text):
        assert sentence in " ".join(shown.split())
    assert len(NUMBER.findall(text)) > 60  # 9 KPIs, their comparisons, 3 recommendations


def test_the_html_renders_anywhere_and_shows_no_server_path(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    text, markup = bodies(send(tmp_path, figures))
    assert str(tmp_path) not in text + markup
    assert "in the report archive: 2011/r1/" in text
    # nothing fetched, nothing a mail client strips: inline styles, tables for layout
    for banned in ("<style", "<link", "<img", "<script", "http:", "https:", 'class="kpi-'):
        assert banned not in markup
    assert markup.count("<table") >= 3 and 'style="' in markup


# --------------------------------------------------------------------------- attachments


def test_the_action_lists_are_not_attached_unless_asked(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    message = send(tmp_path, figures)
    assert set(attachments(message)) == {"lgs-brief-2011.pdf"}
    text, markup = bodies(message)
    note = (
        "The customer action lists (2 CSV files) are not attached: they hold customer-level "
        "data (to attach them, set [email] attach_lists); they are in the report archive: "
        "2011/r1/segments/."
    )
    assert note in text and note in " ".join(" ".join(visible(markup).text).split())


def test_asked_for_the_lists_come_zipped(tmp_path: Path, figures: dict[str, Any]) -> None:
    message = send(tmp_path, figures, attach_lists=True)
    assert set(attachments(message)) == {"lgs-brief-2011.pdf", "lgs-action-lists-2011.zip"}
    assert "not attached" not in bodies(message)[0]


def test_the_workbook_is_attached_instead_of_the_csvs_when_archived(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    workbook = b"PK\x03\x04 a workbook"
    files = {"lgs-brief-2011.pdf": PDF, **CSVS, "segments/action-lists.xlsx": workbook}
    message = send(tmp_path, figures, files=files, attach_lists=True)
    parts = {a.get_filename(): a for a in message.iter_attachments()}
    assert set(parts) == {"lgs-brief-2011.pdf", "lgs-action-lists-2011.xlsx"}
    assert parts["lgs-action-lists-2011.xlsx"].get_content() == workbook
    assert parts["lgs-action-lists-2011.xlsx"].get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_over_the_size_limit_the_pdf_stays_in_the_archive_and_the_email_says_where(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    big_pdf = b"%PDF-1.7\n" + b"0" * 250_000 + b"\n%%EOF\n"
    files = {"lgs-brief-2011.pdf": big_pdf, **CSVS}
    message = send(tmp_path, figures, files=files, attach_lists=True, max_size_mb=0.2)
    assert attachments(message) == {}
    text, markup = bodies(message)
    shown = " ".join(" ".join(visible(markup).text).split())
    for note in (
        "The PDF (0.3 MB) is not attached, to keep this email within the 0.2 MB limit; it is "
        "in the report archive: 2011/r1/lgs-brief-2011.pdf.",
        "The customer action lists (2 CSV files) (0.0 MB) are not attached, to keep this "
        "email within the 0.2 MB limit; they are in the report archive: 2011/r1/segments/.",
    ):
        assert note in text and note in shown


# --------------------------------------------------------------------------- addresses


def test_a_quoted_name_with_a_comma_in_the_variable_is_one_recipient(
    tmp_path: Path, figures: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./lgs_reports.toml
    handler = Inbox()
    with smtp_server(handler) as port:
        env = {
            "LGS_EMAIL_TO": '"Doe, Jane" <jane@example.com>, cfo@example.com',
            "LGS_EMAIL_FROM": "LGS Reports <reports@lgs.example>",
            "LGS_SMTP_HOST": "127.0.0.1",
            "LGS_SMTP_PORT": str(port),
            "LGS_SMTP_SECURITY": "none",
            "LGS_SMTP_RETRIES": "0",
        }
        settings = load_settings(None, env=env)
        report = RevisionStore(tmp_path).archive(
            "2011", {"lgs-brief-2011.pdf": PDF}, fingerprint={}, created_at=WHEN
        )
        outcome = deliver_report(settings, report, figures, now=WHEN)
    assert outcome.sent_to == ("jane@example.com", "cfo@example.com")
    assert sorted(handler.recipients()) == ["cfo@example.com", "jane@example.com"]
    assert handler.parsed()[0]["To"] == '"Doe, Jane" <jane@example.com>, cfo@example.com'
