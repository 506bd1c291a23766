"""Email delivery against a real SMTP server (aiosmtpd on 127.0.0.1): content, TLS, faults.

Nothing in smtplib is mocked: each test starts a local server with a handler
that stores what arrives (or refuses what the test says), and reads the
messages back with the standard email parser.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email
import email.policy
import html.parser
import io
import ipaddress
import json
import logging
import os
import re
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given
from hypothesis import strategies as st

from lgs_reports import formatting
from lgs_reports.archive import RevisionStore
from lgs_reports.config import (
    EmailSettings,
    OutputSettings,
    Settings,
    SmtpSettings,
    validate_address,
)
from lgs_reports.errors import (
    EXIT_DELIVERY_PENDING,
    BadInputError,
    ConfigError,
    DeliveryError,
)
from lgs_reports.mail import (
    NO_RECIPIENTS,
    OUTBOX,
    build_message,
    deliver_pending,
    deliver_report,
    list_outbox,
    message_id,
)
from tests.pgserver import free_port

WHEN = dt.datetime(2011, 12, 10, 6, 0, tzinfo=dt.UTC)
ALICE, BOB = "alice@lgs.example", "bob@lgs.example"
PASSWORD = "s3cret-Pa55word"
PDF = b"%PDF-1.7\n" + os.urandom(2000) + b"\n%%EOF\n"
CSVS = {
    "segments/champions.csv": b"customer_id,country,monetary\n12346,United Kingdom,77183.60\n",
    "segments/cant_lose.csv": b"customer_id,country,monetary\n14911,EIRE,1500.00\n",
}


def kpi(key: str, label: str, unit: str, value: float, previous: float, change: float, **kw: Any):
    """A headline KPI as figures.json holds it, compared with 2010."""
    yoy = {"title": "2010", "available": True, "value": previous, "change": change}
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "higher_is_better": kw.get("higher_is_better", True),
        "change_kind": kw.get("change_kind", "relative"),
        "previous": previous,
        "change": change,
        "comparison": "2010",
        "comparisons": {"yoy": {**yoy, "current": None, "lookback_months": None, "note": None}},
    }


FIGURES: dict[str, Any] = {
    "period": {
        "label": "2011",
        "kind": "year",
        "title": "2011",
        "start": "2011-01-01",
        "end": "2011-12-31",
        "data_start": "2011-01-01",
        "data_end": "2011-12-09",
        "partial": True,
        "partial_note": "data through 9 Dec 2011: December has 9 of 31 days",
    },
    "sample_data": False,
    "comparisons": [
        {"key": "current", "available": True, "title": "1 Jan – 9 Dec 2011"},
        {"key": "yoy", "available": True, "title": "2010"},
    ],
    "kpis": [
        kpi("net_sales", "Net sales", "GBP", 8123456.78, 7000000.0, 0.16),
        kpi("placed_orders", "Orders", "count", 21663, 21000, 0.031571),
        kpi(
            "cancellation_rate",
            "Cancellation rate",
            "ratio",
            0.163,
            0.204,
            -0.041,
            higher_is_better=False,
            change_kind="points",
        ),
    ],
    "recommendations": [
        {
            "rank": 2,
            "title": "Grow the Netherlands",
            "text": "Up 40%.",
            "evidence": "e",
            "at_stake": 50000.0,
        },
        {
            "rank": 1,
            "title": "Win back Can't Lose <customers>",
            "text": "Call them & offer.",
            "evidence": "e",
            "at_stake": 123456.0,
        },
        {"rank": 3, "title": "Third", "text": "", "evidence": "", "at_stake": None},
        {
            "rank": 4,
            "title": "Fourth is not in the email",
            "text": "",
            "evidence": "",
            "at_stake": 1.0,
        },
    ],
}


# --------------------------------------------------------------------------- the server


class Inbox:
    """An aiosmtpd handler that keeps every message and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()  # 450: a temporary refusal
        self.refuse_for_good: set[str] = set()  # 550: a permanent one
        self.asked: list[str] = []  # every RCPT, accepted or not

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.asked.append(address)
        if address in self.refuse_for_good:
            return "550 5.1.1 No such mailbox"
        if address in self.refuse:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(m[2], policy=email.policy.default) for m in self.messages]

    def recipients(self) -> list[str]:
        return [r for m in self.messages for r in m[1]]


class Authenticator:
    """Accepts one user/password; remembers each connection that tried."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.peers: set[Any] = set()

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.peers.add(session.peer)
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def smtp_server(handler: Inbox, port: int | None = None, **kwargs: Any) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """Verification stays on: the test CA is trusted, nothing else is relaxed."""
    return ssl.create_default_context(cafile=str(certificate[0]))


# --------------------------------------------------------------------------- helpers


def make_settings(
    out: Path, port: int = 25, to: tuple[str, ...] = (ALICE, BOB), **smtp: Any
) -> Settings:
    email_kw = {
        k: smtp.pop(k) for k in ("sender", "subject", "max_size_mb", "attach_lists") if k in smtp
    }
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "retries": 0,
        "backoff": 0.0,
        "timeout": 5.0,
        **smtp,
    }
    return Settings(
        output=OutputSettings(dir=str(out), lock_timeout=2.0),
        smtp=SmtpSettings(**options),
        email=EmailSettings(to=to, **{"sender": "LGS Reports <reports@lgs.example>", **email_kw}),
    )


def make_report(out: Path, figures: dict[str, Any] = FIGURES, **extra: bytes):
    files = {
        "lgs-brief-2011.pdf": PDF,
        "figures.json": json.dumps(figures).encode(),
        **CSVS,
        **extra,
    }
    return RevisionStore(out).archive("2011", files, fingerprint={"rows": 1}, created_at=WHEN)


def logged_deliveries(out: Path) -> list[dict[str, Any]]:
    """The 2011 brief's delivery log, as the archive keeps it."""
    return RevisionStore(out).read_manifest("2011")["deliveries"]


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(markup: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(markup)
    return " ".join(" ".join(parser.parts).split()), parser.tags


def bodies(message: email.message.EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    markup = message.get_body(preferencelist=("html",))
    assert text is not None and markup is not None
    # as sent, lines end in CRLF; compare them as text
    return text.get_content().replace("\r\n", "\n"), markup.get_content().replace("\r\n", "\n")


def attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    return {a.get_filename(): a.get_content() for a in message.iter_attachments()}


# --------------------------------------------------------------------------- content


def test_the_brief_arrives_with_figures_pdf_and_zip(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port, attach_lists=True)
    outcome = deliver_report(settings, report, FIGURES, now=WHEN)

    assert outcome.sent_to == (ALICE, BOB)
    assert outcome.pending == () and outcome.already_had == ()
    assert outcome.note == "email: sent the 2011 brief (r1) to alice@lgs.example, bob@lgs.example"
    assert sorted(handler.recipients()) == [ALICE, BOB]
    assert [m[0] for m in handler.messages] == ["reports@lgs.example"] * 2

    first, second = handler.parsed()
    assert first["Subject"] == "LGS brief 2011 (to 9 Dec): net sales £8.12m, +16.0% on 2010"
    assert first["To"] == f"{ALICE}, {BOB}"
    assert first["Message-ID"] != second["Message-ID"]
    by_rcpt = {m[1][0]: email.message_from_bytes(m[2]) for m in handler.messages}
    sender = validate_address("reports@lgs.example", "test")
    assert by_rcpt[ALICE]["Message-ID"] == message_id("2011", 1, ALICE, sender)

    files = attachments(first)
    assert files["lgs-brief-2011.pdf"] == PDF
    with zipfile.ZipFile(io.BytesIO(files["lgs-action-lists-2011.zip"])) as z:
        assert sorted(z.namelist()) == ["cant_lose.csv", "champions.csv"]
        assert z.read("champions.csv") == CSVS["segments/champions.csv"]

    text, markup = bodies(first)
    shown, tags = html_text(markup)
    for body in (text, shown):
        assert "£8.12m" in body and "+16.0% vs 2010 (£7.00m)" in body
        # a ratio's change is in percentage points, as in the PDF
        assert "21,663" in body and "16.3%" in body and "−4.1 pp vs 2010 (20.4%)" in body
        assert "Win back Can't Lose <customers>" in body
        assert "£123k" in body
        assert "data through 9 Dec 2011" in body
        assert "Fourth is not in the email" not in body
        assert "Attached: lgs-brief-2011.pdf, lgs-action-lists-2011.zip." in body
    assert "- Net sales: £8.12m\n    ▲ +16.0% vs 2010 (£7.00m): better\n" in text
    assert "- Cancellation rate: 16.3%\n    ▼ −4.1 pp vs 2010 (20.4%): better\n" in text
    # Recommendations are ordered by rank; data is text, never markup.
    assert text.index("Win back") < text.index("Grow the Netherlands") < text.index("Third")
    assert "customers" not in tags
    assert "&lt;customers&gt;" in markup


def test_a_second_delivery_sends_nothing(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port)
    deliver_report(settings, report, FIGURES, now=WHEN)
    again = deliver_report(settings, report, None, now=WHEN)  # figures read from the archive

    assert again.sent_to == () and again.already_had == (ALICE, BOB)
    assert "already had" in again.note
    assert len(handler.messages) == 2
    log = logged_deliveries(tmp_path)
    assert sorted(d["recipient"] for d in log) == [ALICE, BOB]
    assert all(
        d["revision"] == 1 and d["message_id"].startswith("<lgs-brief.2011.r1.") for d in log
    )
    assert list_outbox(tmp_path) == []


def test_size_limit_leaves_the_lists_in_the_archive_and_says_where(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    big = {f"segments/s{i}.csv": os.urandom(60_000).hex().encode() for i in range(3)}
    report = make_report(tmp_path, **big)
    settings = make_settings(tmp_path, port, to=(ALICE,), max_size_mb=0.1, attach_lists=True)
    deliver_report(settings, report, FIGURES, now=WHEN)

    (message,) = handler.parsed()
    assert set(attachments(message)) == {"lgs-brief-2011.pdf"}
    assert len(handler.messages[0][2]) <= 100_000
    text, markup = bodies(message)
    note = (
        "The customer action lists (5 CSV files) (0.2 MB) are not attached, to keep this "
        "email within the 0.1 MB limit; they are in the report archive: 2011/r1/segments/."
    )
    assert note in " ".join(text.split()) and note in html_text(markup)[0]
    assert str(tmp_path) not in text + markup  # no server path


def test_no_recipients_is_not_an_error(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    settings = Settings(output=OutputSettings(dir=str(tmp_path)))  # no host either
    outcome = deliver_report(settings, report, FIGURES, now=WHEN)
    assert (
        outcome.note
        == NO_RECIPIENTS
        == "email: no recipients configured ([email] to); nothing sent"
    )
    assert not (tmp_path / OUTBOX).exists()


def test_recipients_without_a_host_name_the_variable(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    settings = Settings(email=EmailSettings(to=(ALICE,), sender="reports@lgs.example"))
    with pytest.raises(ConfigError, match="LGS_SMTP_HOST"):
        deliver_report(settings, report, FIGURES, now=WHEN)


@pytest.mark.parametrize("sender", ["", "lgs-reports@localhost"])
def test_no_sender_or_one_at_localhost_is_refused_before_anything_is_sent(
    tmp_path: Path, inbox, sender: str
) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    with pytest.raises(ConfigError) as caught:
        deliver_report(make_settings(tmp_path, port, sender=sender), report, FIGURES, now=WHEN)
    assert str(caught.value).startswith(
        "[email] from: 'lgs-reports@localhost' cannot be the sender: mail servers refuse"
        if sender
        else "[email] to is set but [email] from is not: the brief is emailed and needs a sender"
    )
    assert handler.messages == [] and not (tmp_path / OUTBOX).exists()


def test_dry_run_writes_the_eml_and_sends_nothing(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    outcome = deliver_report(make_settings(tmp_path, port), report, FIGURES, now=WHEN, dry_run=True)
    assert outcome.eml_path == report.path / "email-preview.eml"
    assert outcome.sent_to == () and "nothing sent" in outcome.note
    assert handler.messages == []
    preview = email.message_from_bytes(outcome.eml_path.read_bytes(), policy=email.policy.default)
    assert attachments(preview)["lgs-brief-2011.pdf"] == PDF
    assert logged_deliveries(tmp_path) == []


def test_email_kpis_read_exactly_as_the_pdf_kpi_cards(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    """The email's headline figures are the brief's KPI cards, word for word: a ratio's
    change in percentage points ("−1.1 pp", never "−1.1%"), money to the same precision."""
    from lgs_reports.render import BriefContext, render_html

    brief = render_html(BriefContext(figures, {}, company="LGS"))
    cards = {}
    for kpi in figures["kpis"]:
        card = re.search(
            rf'<div class="kpi kpi-{kpi["key"]}">.*?<div class="kpi-value">(.*?)</div>'
            r'.*?<div class="kpi-change [a-z]+">.*?<b>(.*?)</b>',
            brief,
            re.S,
        )
        assert card, kpi["key"]
        cards[kpi["key"]] = card.groups()
    assert cards["cancellation_rate"][1] == "−1.4 pp"
    assert cards["guest_share"][1] == "+1.2 pp"

    message = build_message(make_settings(tmp_path), make_report(tmp_path, figures), figures)
    text, markup = bodies(message)
    shown, _ = html_text(markup)
    for kpi in figures["kpis"]:
        value, change = cards[kpi["key"]]
        yoy = kpi["comparisons"]["yoy"]
        compared = f"{yoy['title']} ({formatting.kpi_value(yoy['value'], kpi['unit'])})"
        if kpi["key"] == "new_customers":  # as on the card: what the change compares
            compared = f"{yoy['title']}, new or returning after 1 month: 3,452 vs 3,354"
        assert f"- {kpi['label']}: {value}\n    " in text
        assert f" {change} vs {compared}" in text
        assert f"{kpi['label']} {value} " in shown and f" {change} vs {compared}" in shown
    points = [k["key"] for k in figures["kpis"] if k["change_kind"] == "points"]
    assert points and all(cards[key][1].endswith(" pp") for key in points)


def test_mail_does_not_load_the_chart_or_pdf_libraries() -> None:
    """Mail shares the brief's template environment, but not matplotlib or WeasyPrint."""
    code = (
        "import sys, lgs_reports.mail; from lgs_reports.render import template_environment; "
        "template_environment(None).get_template('email.html'); "
        "print(sorted(m for m in ('matplotlib', 'weasyprint') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_sample_data_is_flagged_in_the_subject(tmp_path: Path) -> None:
    figures = {**FIGURES, "sample_data": True}
    report = make_report(tmp_path, figures)
    message = build_message(make_settings(tmp_path), report, figures, now=WHEN)
    assert message["Subject"] == (
        "[SAMPLE DATA] LGS brief 2011 (to 9 Dec): net sales £8.12m, +16.0% on 2010"
    )


def test_missing_figures_keys_still_make_an_email(tmp_path: Path) -> None:
    report = make_report(tmp_path, {})
    message = build_message(make_settings(tmp_path), report, {}, now=WHEN)
    text, _ = bodies(message)
    assert message["Subject"] == "LGS brief 2011: the figures are in the PDF"
    assert "Headline figures" not in text and "lgs-brief-2011.pdf" in text


# --------------------------------------------------------------------------- injection


@pytest.mark.parametrize(
    "bad",
    [
        "a@b.com\r\nBcc: evil@x.com",
        "a@b.com\nBcc: evil@x.com",
        "a@b.com, evil@x.com",
        "a@b.com <evil@x.com>",
        "Jane <a@b.com> evil@x.com",
        "a@@b.com",
        "@b.com",
        "ab.com",
        "a@b..com",
        "José <josé@b.com>",
        "a@b.com\u2028Bcc: evil@x.com",
    ],
)
def test_bad_recipients_are_refused_before_sending(tmp_path: Path, inbox, bad: str) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    with pytest.raises(ConfigError) as caught:
        deliver_report(make_settings(tmp_path, port, to=(ALICE, bad)), report, FIGURES, now=WHEN)
    assert str(caught.value).startswith(f"[email] to: {bad!r} is not a valid email address")
    assert "\n" not in str(caught.value)
    assert handler.messages == []
    assert not (tmp_path / OUTBOX).exists()


@given(st.text(max_size=20), st.sampled_from(["\r", "\n", "\r\n", "\x0b", "\x85", "\u2029"]))
def test_no_line_break_gets_through_address_validation(text: str, brk: str) -> None:
    with pytest.raises(ConfigError):
        validate_address(f"a@b.com{brk}{text}", "[email] to")


@pytest.mark.parametrize(
    ("good", "addr", "name"),
    [
        ("a@b.com", "a@b.com", ""),
        ("Jane Doe <jane.doe+lgs@mail.b.co.uk>", "jane.doe+lgs@mail.b.co.uk", "Jane Doe"),
        ('"Doe, Jane" <j@b.com>', "j@b.com", "Doe, Jane"),
        ("Zoë <z@b.com>", "z@b.com", "Zoë"),
        ("lgs-reports@localhost", "lgs-reports@localhost", ""),
    ],
)
def test_good_addresses_are_accepted(good: str, addr: str, name: str) -> None:
    address = validate_address(good, "[email] to")
    assert (address.addr_spec, address.display_name) == (addr, name)


def test_subject_and_period_cannot_inject_headers(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port, subject="Brief {period}\r\nBcc: evil@x.com")
    with pytest.raises(ConfigError, match=r"\[email\] subject"):
        deliver_report(settings, report, FIGURES, now=WHEN)
    figures = {**FIGURES, "period": {"label": "2011", "title": "2011\r\nBcc: evil@x.com"}}
    with pytest.raises(BadInputError, match=r"from figures\.json contains a line break"):
        deliver_report(make_settings(tmp_path, port), report, figures, now=WHEN)
    assert handler.messages == []


# --------------------------------------------------------------------------- faults


def test_server_down_then_up_delivers_once_from_the_outbox(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="lgs_reports")
    port = free_port()  # nothing listens here yet
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port, retries=2)

    with pytest.raises(DeliveryError) as caught:
        deliver_report(settings, report, FIGURES, now=WHEN)
    assert "email: attempt 3 of 3 failed: connection refused" in caplog.text
    assert caught.value.exit_code == EXIT_DELIVERY_PENDING == 4
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "connection refused" in message
    assert "after 3 attempt(s)" in message and "lgs-reports deliver" in message
    (entry,) = list_outbox(tmp_path)
    assert entry.eml == tmp_path / OUTBOX / "2011-r1.eml"
    assert entry.pending == (ALICE, BOB)
    assert json.loads(entry.meta.read_text())["pending"] == [ALICE, BOB]
    assert logged_deliveries(tmp_path) == []  # still archived, not delivered

    # At the start of a run: one attempt only, and no error that would stop the run.
    caplog.clear()
    (still,) = deliver_pending(settings, tmp_path, raise_on_pending=False, retries=0)
    assert still.pending == (ALICE, BOB) and still.eml_path == entry.eml
    assert "attempt 1 of 1 failed: connection refused" in caplog.text

    handler = Inbox()
    with smtp_server(handler, port):
        outcomes = deliver_pending(settings, tmp_path)
        assert [o.sent_to for o in outcomes] == [(ALICE, BOB)]
        assert deliver_pending(settings, tmp_path) == []
        assert deliver_report(settings, report, FIGURES, now=WHEN).sent_to == ()
    assert sorted(handler.recipients()) == [ALICE, BOB]
    assert list_outbox(tmp_path) == [] and not list((tmp_path / OUTBOX).iterdir())
    (message_back,) = {m[2] for m in handler.messages if m[1] == [ALICE]}
    assert (
        attachments(email.message_from_bytes(message_back, policy=email.policy.default))[
            "lgs-brief-2011.pdf"
        ]
        == PDF
    )
    assert "sent the 2011 brief (r1) to alice@lgs.example" in caplog.text


def test_refused_login_is_permanent_pending_and_without_the_password(
    tmp_path: Path, caplog
) -> None:
    """535 is a permanent refusal: retrying with the same password cannot help."""
    caplog.set_level(logging.DEBUG)
    handler = Inbox()
    auth = Authenticator("lgs", "the-right-one")
    report = make_report(tmp_path)
    with smtp_server(handler, authenticator=auth, auth_require_tls=False) as port:
        settings = make_settings(tmp_path, port, username="lgs", password=PASSWORD, retries=2)
        with pytest.raises(DeliveryError) as caught:
            deliver_report(settings, report, FIGURES, now=WHEN)
    message = str(caught.value)
    assert "authentication refused: 535" in message
    assert "a permanent (5xx) refusal is not retried" in message
    assert len(auth.peers) == 1  # retries=2, but not for a 5xx
    assert handler.messages == []
    assert list_outbox(tmp_path)[0].pending == (ALICE, BOB)
    for text in (message, caplog.text, (tmp_path / OUTBOX / "2011-r1.json").read_text()):
        assert PASSWORD not in text


def test_login_that_works_sends(tmp_path: Path) -> None:
    handler = Inbox()
    auth = Authenticator("lgs", PASSWORD)
    report = make_report(tmp_path)
    with smtp_server(handler, authenticator=auth, auth_require_tls=False) as port:
        settings = make_settings(tmp_path, port, username="lgs", password=PASSWORD, to=(ALICE,))
        assert deliver_report(settings, report, FIGURES, now=WHEN).sent_to == (ALICE,)
    assert handler.recipients() == [ALICE]


def test_one_refused_recipient_gets_it_later_and_the_other_only_once(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    handler.refuse.add(BOB)
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port, retries=1)

    with pytest.raises(DeliveryError, match=r"not delivered to bob@lgs\.example .*450"):
        deliver_report(settings, report, FIGURES, now=WHEN)
    assert handler.recipients() == [ALICE]
    assert [d["recipient"] for d in logged_deliveries(tmp_path)] == [ALICE]
    (entry,) = list_outbox(tmp_path)
    assert (entry.pending, entry.sent) == ((BOB,), (ALICE,))

    with pytest.raises(DeliveryError):  # still refused: stays pending, Alice untouched
        deliver_pending(settings, tmp_path)
    assert deliver_pending(settings, tmp_path, raise_on_pending=False)[0].pending == (BOB,)
    assert handler.recipients() == [ALICE]

    handler.refuse.clear()
    (outcome,) = deliver_pending(settings, tmp_path)
    assert outcome.sent_to == (BOB,)
    assert deliver_pending(settings, tmp_path) == []
    assert sorted(handler.recipients()) == [ALICE, BOB]
    assert sorted(d["recipient"] for d in logged_deliveries(tmp_path)) == [
        ALICE,
        BOB,
    ]


def test_a_new_revision_supersedes_the_pending_one(tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(tmp_path, port, to=(ALICE,))
    with pytest.raises(DeliveryError):
        deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
    newer = make_report(tmp_path, extra=b"new data")
    assert newer.revision == 2
    handler = Inbox()
    with smtp_server(handler, port):
        assert deliver_report(settings, newer, FIGURES, now=WHEN).sent_to == (ALICE,)
        assert deliver_pending(settings, tmp_path) == []
    assert [m["X-LGS-Revision"] for m in handler.parsed()] == ["2"]


def test_pending_mail_without_a_host_is_a_config_error_only_when_asked(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, free_port(), to=(ALICE,))
    with pytest.raises(DeliveryError):
        deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
    no_host = Settings(email=EmailSettings(to=(ALICE,)))
    assert deliver_pending(no_host, tmp_path, raise_on_pending=False) == []
    with pytest.raises(ConfigError, match="LGS_SMTP_HOST"):
        deliver_pending(no_host, tmp_path)


# --------------------------------------------------------------------------- TLS


def test_starttls_with_a_trusted_certificate(tmp_path: Path, certificate) -> None:
    handler = Inbox()
    auth = Authenticator("lgs", PASSWORD)
    report = make_report(tmp_path)
    with smtp_server(
        handler, tls_context=server_tls(certificate), require_starttls=True, authenticator=auth
    ) as port:
        settings = make_settings(
            tmp_path, port, security="starttls", username="lgs", password=PASSWORD, to=(ALICE,)
        )
        outcome = deliver_report(
            settings, report, FIGURES, now=WHEN, ssl_context=client_tls(certificate)
        )
    assert outcome.sent_to == (ALICE,)
    assert handler.recipients() == [ALICE]


def test_certificates_are_verified_by_default(tmp_path: Path, certificate) -> None:
    handler = Inbox()
    report = make_report(tmp_path)
    with smtp_server(handler, tls_context=server_tls(certificate), require_starttls=True) as port:
        settings = make_settings(tmp_path, port, security="starttls", to=(ALICE,))
        with pytest.raises(DeliveryError, match="TLS certificate not trusted"):
            deliver_report(settings, report, FIGURES, now=WHEN)
    assert handler.messages == []


def test_starttls_is_never_skipped_when_the_server_lacks_it(tmp_path: Path, inbox) -> None:
    handler, port = inbox  # a plain server: no STARTTLS offered
    settings = make_settings(tmp_path, port, security="starttls", to=(ALICE,))
    with pytest.raises(DeliveryError, match="STARTTLS"):
        deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
    assert handler.messages == []


def test_implicit_tls(tmp_path: Path, certificate) -> None:
    handler = Inbox()
    report = make_report(tmp_path)
    with smtp_server(handler, ssl_context=server_tls(certificate)) as port:
        settings = make_settings(tmp_path, port, security="tls", to=(ALICE,))
        outcome = deliver_report(
            settings, report, FIGURES, now=WHEN, ssl_context=client_tls(certificate)
        )
    assert outcome.sent_to == (ALICE,)
    assert handler.recipients() == [ALICE]


def test_concurrent_pending_delivery_skips_what_is_being_sent(tmp_path: Path) -> None:

    settings = make_settings(tmp_path, free_port(), to=(ALICE,))
    with pytest.raises(DeliveryError):
        deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with RevisionStore(tmp_path).delivery_lock("2011", 1.0):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        assert deliver_pending(settings, tmp_path) == []  # skipped, not sent twice
    finally:
        release.set()
        holder.join()
    assert len(list_outbox(tmp_path)) == 1


def test_a_users_template_folder_overrides_the_email(tmp_path: Path) -> None:
    folder = tmp_path / "my-templates"
    folder.mkdir()
    (folder / "email.txt").write_text("Brief {{ ctx.period_title }}: see the PDF.\n")
    settings = make_settings(tmp_path / "out")
    settings = dataclasses.replace(
        settings, report=dataclasses.replace(settings.report, templates_dir=str(folder))
    )
    message = build_message(settings, make_report(tmp_path / "out"), FIGURES, now=WHEN)
    text, markup = bodies(message)
    assert text == "Brief 2011: see the PDF.\n"
    assert "Headline figures" in markup  # the built-in html is still used


def test_a_bidi_override_in_the_data_reorders_nothing_in_the_email(tmp_path: Path) -> None:
    figures = json.loads(json.dumps(FIGURES))
    figures["recommendations"][0]["title"] = "Grow abc\u202edef"
    report = make_report(tmp_path, figures)
    text, markup = bodies(build_message(make_settings(tmp_path), report, figures, now=WHEN))
    assert "Grow abc\u202e\u202cdef" in text and "Grow abc\u202e\u202cdef" in markup


def test_a_short_password_does_not_mangle_the_server_reply(tmp_path: Path) -> None:
    """The password is masked where it is a whole word, never inside other words."""
    auth = Authenticator("lgs", "the-right-one")
    with smtp_server(Inbox(), authenticator=auth, auth_require_tls=False) as port:
        settings = make_settings(tmp_path, port, username="lgs", password="e", to=(ALICE,))
        with pytest.raises(DeliveryError) as caught:
            deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
    assert "authentication refused: 535 5.7.8 Authentication credentials invalid" in str(
        caught.value
    )


# --------------------------------------------------------------------------- 5xx, 4xx, intents


def test_a_permanent_refusal_is_not_retried_a_temporary_one_is(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    handler.refuse_for_good.add(ALICE)
    handler.refuse.add(BOB)
    report = make_report(tmp_path)
    settings = make_settings(tmp_path, port, retries=2)
    with pytest.raises(DeliveryError) as caught:
        deliver_report(settings, report, FIGURES, now=WHEN)
    assert (handler.asked.count(ALICE), handler.asked.count(BOB)) == (1, 3)
    assert str(caught.value) == (
        f"email: the 2011 brief (r1) is archived but not delivered to {BOB} via "
        f"127.0.0.1:{port} after 3 attempt(s) ({BOB} refused: 450 4.2.1 Mailbox busy, try "
        f"again later); refused for good for {ALICE} ({ALICE} refused: 550 5.1.1 No such "
        "mailbox): a permanent (5xx) refusal is not retried; it waits in "
        f"{tmp_path / OUTBOX / '2011-r1.eml'}; fix the cause, then run `lgs-reports deliver`"
    )
    assert caught.value.exit_code == EXIT_DELIVERY_PENDING
    (entry,) = list_outbox(tmp_path)
    assert (set(entry.pending), entry.unconfirmed) == ({ALICE, BOB}, {})
    assert logged_deliveries(tmp_path) == [] and handler.messages == []

    handler.refuse_for_good.clear()  # the operator fixed the mailbox: the next deliver sends
    handler.refuse.clear()
    (outcome,) = deliver_pending(settings, tmp_path)
    assert sorted(outcome.sent_to) == [ALICE, BOB] and list_outbox(tmp_path) == []


class Watching(Inbox):
    """Stores each message, notes what the outbox says while it is being handed over, and
    can drop the connection before answering DATA (as a network failure would)."""

    def __init__(self, outbox: Path) -> None:
        super().__init__()
        self.outbox = outbox
        self.seen_unconfirmed: list[dict[str, str]] = []
        self.drop_answer_for: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        (meta,) = self.outbox.glob("*.json")
        self.seen_unconfirmed.append(json.loads(meta.read_text())["unconfirmed"])
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if set(envelope.rcpt_tos) & self.drop_answer_for:
            server.transport.close()  # the message is here; the answer never leaves
        return "250 Message accepted"


def test_the_intent_is_on_disk_while_the_server_takes_the_message(tmp_path: Path) -> None:
    handler = Watching(tmp_path / OUTBOX)
    with smtp_server(handler) as port:
        deliver_report(make_settings(tmp_path, port), make_report(tmp_path), FIGURES, now=WHEN)
    assert [set(u) for u in handler.seen_unconfirmed] == [{ALICE}, {BOB}]
    assert list_outbox(tmp_path) == []  # both results recorded: the entry is gone
    logged = logged_deliveries(tmp_path)
    assert [d["recipient"] for d in logged] == [ALICE, BOB]


def test_a_lost_answer_leaves_the_recipient_unconfirmed_never_sent_twice_unasked(
    tmp_path: Path,
) -> None:
    handler = Watching(tmp_path / OUTBOX)
    handler.drop_answer_for.add(ALICE)
    with smtp_server(handler) as port:
        settings = make_settings(tmp_path, port, retries=2)
        with pytest.raises(DeliveryError) as caught:
            deliver_report(settings, make_report(tmp_path), FIGURES, now=WHEN)
        assert handler.recipients() == [ALICE, BOB]  # Alice got it; her answer was lost
        message = str(caught.value)
        assert f"unconfirmed for {ALICE}: a run stopped after handing it to the server (" in message
        assert "lgs-reports deliver --resend-unconfirmed" in message
        (entry,) = list_outbox(tmp_path)
        assert (entry.pending, list(entry.unconfirmed), entry.sent) == ((ALICE,), [ALICE], (BOB,))
        assert [d["recipient"] for d in logged_deliveries(tmp_path)] == [BOB]

        with pytest.raises(DeliveryError, match=r"unconfirmed for alice@lgs\.example"):
            deliver_pending(settings, tmp_path)  # reported again, not sent again
        assert handler.recipients() == [ALICE, BOB]

        handler.drop_answer_for.clear()
        (outcome,) = deliver_pending(settings, tmp_path, resend_unconfirmed=True)
        assert outcome.sent_to == (ALICE,)
    parsed = zip(handler.parsed(), handler.messages, strict=True)
    alice = [message for message, raw in parsed if raw[1] == [ALICE]]
    assert len(alice) == 2  # sent again only when asked, with the same Message-ID
    assert alice[0]["Message-ID"] == alice[1]["Message-ID"]
    assert list_outbox(tmp_path) == []
    logged = logged_deliveries(tmp_path)
    assert sorted(d["recipient"] for d in logged) == [ALICE, BOB]
