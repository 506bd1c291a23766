"""Logging for cron mail: one line per message, a library's warning included."""

from __future__ import annotations

import logging
import re
import warnings

from lgs_reports.logs import configure


def test_a_library_warning_is_one_log_line(capsys) -> None:
    logger = logging.getLogger("lgs_reports")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        with warnings.catch_warnings():  # restores warnings.showwarning afterwards
            warnings.simplefilter("always")
            configure("INFO")
            warnings.warn(
                "Glyph 127873 (\\N{WRAPPED PRESENT}) missing\nfrom font(s)",
                UserWarning,
                stacklevel=1,
            )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARNING UserWarning: Glyph 127873 "
        r"\(\\N\{WRAPPED PRESENT\}\) missing from font\(s\)",
        line,
    )
