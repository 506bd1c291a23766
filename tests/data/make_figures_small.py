"""Rebuild ``figures_small.json`` from a real brief's figures.json (after a schema change).

    python -m lgs_reports load ../shared/data/retail.sql.gz
    python -m lgs_reports --period 2011 --no-email
    python tests/data/make_figures_small.py output/2011/latest/figures.json

The fixture is the 2011 brief's figures with every customer id replaced by a
made-up one (90001, 90002, ... in order of appearance, the same id for the same
customer everywhere, in numbers and in text), the action lists cut to their first
four rows, and the load time fixed, so that it holds no customer of the extract
and never changes with the day it was made.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).with_name("figures_small.json")
ID_KEYS = ("customer_id", "top_customer", "mover")
TEXT_KEYS = ("text", "evidence")  # recommendations name accounts in their text
ACCOUNT = re.compile(r"(account )(\d+)")
ROWS_KEPT = 4


def anonymise(figures: dict[str, Any]) -> dict[str, Any]:
    ids: dict[int, int] = {}

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ID_KEYS and isinstance(value, int):
                    ids.setdefault(value, 90001 + len(ids))
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    for action_list in figures["segments"]["action_lists"]:
        action_list["top"] = action_list["top"][:ROWS_KEPT]
        action_list["shown"] = len(action_list["top"])
    collect(figures)

    def account(match: re.Match[str]) -> str:
        number = int(match.group(2))
        return match.group(1) + str(ids.setdefault(number, 90001 + len(ids)))

    def replace(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {k: replace(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        if key in ID_KEYS and isinstance(node, int):
            return ids[node]
        if key in TEXT_KEYS and isinstance(node, str):  # "call account 12415"
            return ACCOUNT.sub(account, node)
        return node

    result = replace(figures)
    for load in result["data_quality"]["loads"]:
        load["loaded_at"] = "2024-01-01T00:00:00"
    return result


def main(source: str) -> None:
    figures = json.loads(Path(source).read_text(encoding="utf-8"))
    text = json.dumps(anonymise(figures), indent=2, ensure_ascii=False) + "\n"
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
