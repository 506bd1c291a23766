"""The SMTP session: connect as ``[smtp] security`` says, one transaction per recipient,
and every failure described in one line without the password.

Certificates are always verified (``ssl.create_default_context()``); the
``ssl_context`` parameters exist so tests can trust a self-signed server.
STARTTLS is never skipped when the server lacks it. A 5xx reply is permanent
(`permanent`): trying again in a moment cannot help. The SMTP password is only
ever handed to ``smtplib.login``; wherever it (or its base64 AUTH forms) is a
word of a server's reply, it is masked before the reply is logged or raised
(`config.mask_secrets`).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import ssl

from lgs_reports.config import Settings, mask_secrets
from lgs_reports.errors import ConfigError

log = logging.getLogger("lgs_reports.mail")


def require_host(settings: Settings, why: str) -> None:
    if not settings.smtp.host.strip():
        raise ConfigError(
            f"email: {why}, but no SMTP server is configured; set [smtp] host or "
            "LGS_SMTP_HOST (or run with --no-email)"
        )


def connect(settings: Settings, ssl_context: ssl.SSLContext | None) -> smtplib.SMTP:
    """An SMTP session, secured as ``[smtp] security`` says and logged in if configured."""
    smtp = settings.smtp
    context = ssl_context or ssl.create_default_context()
    log.info("email: connecting to %s:%d (%s)", smtp.host, smtp.port, smtp.security)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            # Raises SMTPNotSupportedError when STARTTLS is not offered: never fall back to
            # sending the password and the brief in clear text.
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except BaseException as exc:
        close(client, polite=isinstance(exc, smtplib.SMTPException | OSError))
        raise
    return client


def close(client: smtplib.SMTP, *, polite: bool = True) -> None:
    """End the session: QUIT, or (stopped by Ctrl-C or SIGTERM, or a failure of ours) just
    close the socket, since QUIT waits for an answer, up to ``[smtp] timeout``."""
    if not polite:
        client.close()
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def envelope(client: smtplib.SMTP, sender: str, recipient: str, size: int) -> None:
    """MAIL and RCPT of one transaction (as ``smtplib.sendmail`` does); a refusal raises."""
    options = [f"size={size}"] if client.does_esmtp and client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        _reset(client)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = client.rcpt(recipient)
    if code not in (250, 251):
        _reset(client)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})


def send_data(client: smtplib.SMTP, data: bytes) -> None:
    """DATA: hands the message over; only a 250 answer means the server has taken it."""
    code, reply = client.data(data)
    if code != 250:
        _reset(client)
        raise smtplib.SMTPDataError(code, reply)


def _reset(client: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()


def permanent(exc: BaseException) -> bool:
    """True for a 5xx reply: the server refuses for good (a wrong password, an unknown
    mailbox, a message it will not take); trying again in a moment cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def describe(exc: BaseException, settings: Settings) -> str:
    """One line about a delivery failure, with every form of the password removed."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"authentication refused: {exc.smtp_code} {_reply(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{rcpt} refused: {code} {_reply(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"server replied {exc.smtp_code} {_reply(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        text = f"the server does not support this ({exc}); check [smtp] security"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS certificate not trusted ({exc.verify_message})"
    elif isinstance(exc, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(exc, TimeoutError):
        text = f"no answer within {settings.smtp.timeout:g}s"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _scrub(" ".join(text.split()), settings)


def _reply(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _scrub(text: str, settings: Settings) -> str:
    """Mask the password, and the base64 forms an AUTH exchange uses, wherever one is a word."""
    password = settings.smtp.password
    if not password:
        return text
    user = settings.smtp.username
    return mask_secrets(
        text,
        (
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
        ),
    )
