"""Corrections: cancelled product lines that reverse a placed line (BRIEF_SPEC, version 2).

A keying error (80,995 units typed for 8) is placed, then cancelled minutes later.
Counted as a cancellation, it would read as a customer cancelling £168k of
goods; it is a correction. A cancellation is a correction when it reverses a
placed line of the same customer (or both without one), same stock code,
exactly opposite quantity, same unit price, placed 0 to 24 hours before it.
``sql/correction_candidates.sql`` finds every such possible pair across the
whole warehouse; `pair_corrections` chooses among them so that a placed line is
reversed at most once: cancellations are taken in time order (then invoice
number), each pairing with the earliest unpaired candidate (then invoice number).
Descriptions and countries break the last ties, so the pairs never depend on the
engine's row order.
"""

from __future__ import annotations

import pandas as pd

CANCEL_ORDER = ["cancel_date", "cancel_invoice", "cancel_text", "cancel_country"]
PLACED_ORDER = ["placed_date", "placed_invoice", "placed_text", "placed_country"]


def pair_corrections(candidates: pd.DataFrame) -> tuple[list[int], list[int]]:
    """``(cancel_lines, placed_lines)``: the line ids of each correction and what it reverses.

    ``candidates`` has the columns of ``sql/correction_candidates.sql``. Sorting every
    candidate by the cancellation's order, then the placed line's, and walking the rows
    once is the greedy rule: a cancellation's rows arrive together, best candidate first.
    """
    cancels: list[int] = []
    placed: list[int] = []
    if candidates.empty:
        return cancels, placed
    ordered = candidates.sort_values(CANCEL_ORDER + PLACED_ORDER, kind="stable")
    taken: set[int] = set()
    done: set[int] = set()
    for cancel, line in zip(
        ordered["cancel_line"].tolist(), ordered["placed_line"].tolist(), strict=True
    ):
        if cancel in done or line in taken:
            continue
        done.add(cancel)
        taken.add(line)
        cancels.append(int(cancel))
        placed.append(int(line))
    return cancels, placed
