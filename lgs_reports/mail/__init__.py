"""Email delivery of an archived brief: compose it, queue it, send it by SMTP.

One message per report revision goes to the configured recipients, in one
SMTP transaction per recipient over one connection, so that partial success
is known exactly. The package has one module per job:

- `message`: the email itself (subject, body from ``templates/email.*``,
  attachments within ``[email] max_size_mb``) and its Message-ID.
- `smtp`: the session (security, login), one transaction's MAIL, RCPT and
  DATA, which failures are permanent, and every failure in one line without
  the password.
- `outbox`: the queue on disk (``output/.outbox``), each recipient's intent
  before DATA and the result after it.
- `deliver`: `deliver_report` (a new revision), `deliver_pending` (what waits
  in the outbox), `write_preview` (``--dry-run``).

The guarantee: nobody is sent a revision the delivery log says they have; a
run stopped between handing a message over and recording the answer leaves
the recipient *unconfirmed*, reported on every later delivery and sent again
(same Message-ID) only with ``deliver --resend-unconfirmed``. A 5xx refusal
is permanent and not retried; a 4xx one, or no answer, is retried up to
``[smtp] retries`` times. If someone still lacks it, DeliveryError (exit 4);
when the outbox cannot be written, NotQueuedError (exit 7).
"""

from lgs_reports.mail.deliver import (
    NO_RECIPIENTS,
    PREVIEW_NAME,
    DeliveryOutcome,
    check_ready,
    deliver_pending,
    deliver_report,
    write_preview,
)
from lgs_reports.mail.message import build_message, configured_recipients, message_id
from lgs_reports.mail.outbox import OUTBOX, OutboxEntry, list_outbox

__all__ = [
    "NO_RECIPIENTS",
    "OUTBOX",
    "PREVIEW_NAME",
    "DeliveryOutcome",
    "OutboxEntry",
    "build_message",
    "check_ready",
    "configured_recipients",
    "deliver_pending",
    "deliver_report",
    "list_outbox",
    "message_id",
    "write_preview",
]
