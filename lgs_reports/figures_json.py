"""``figures.json``: every number of the brief in one documented JSON document.

Other systems consume it and the tests compare it (across engines, against
the PDF). Money is a number in GBP rounded to the penny, shares and changes
are fractions (0.123 = 12.3%), dates are ISO strings. The document never holds
the time it was made, so the same data gives the same bytes. Its layout is
documented in ``docs/figures.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any

import lgs_reports
from lgs_reports.action_lists import WORKBOOK
from lgs_reports.analyses import Analysis
from lgs_reports.periods import Span
from lgs_reports.recommendations import Recommendation

SCHEMA = "lgs-reports/figures/2"
CODES_LISTED = 24  # non-product codes the brief lists one by one; the rest in one line


def _money(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _ratio(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(float(value), 6) + 0.0


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def build_figures(a: Analysis, recommendations: tuple[Recommendation, ...]) -> dict[str, Any]:
    """The figures.json document of one brief."""
    data = a.dataset
    cov = data.coverage
    period = data.period
    return {
        "schema": SCHEMA,
        "generator": {"name": "lgs-reports", "version": lgs_reports.__version__},
        "period": {
            "label": period.label,
            "kind": period.kind,
            "title": period.title,
            "start": _iso(period.start),
            "end": _iso(period.end),
            "data_start": _iso(cov.data_start),
            "data_end": _iso(cov.data_end),
            "partial": cov.partial,
            "partial_note": cov.note,
            "last_month_days": list(cov.last_month_days) if cov.last_month_days else None,
            "until": _iso(cov.current.end),
            "lookback_months": cov.lookback,
            "snapshot": _iso(cov.snapshot),
        },
        "data_window": {
            "first_invoice": _iso(cov.first_data),
            "last_invoice": _iso(cov.last_data),
            "invoices": int(data.window.at[0, "invoices"]),
            "customers": int(data.window.at[0, "customers"]),
        },
        "sample_data": data.is_sample,
        "comparisons": _comparisons(a),
        "trailing": {
            "last": _span(data.trailing[0]),
            "before": _span(data.trailing[1]) if data.trailing[1] else None,
            "months": _span(data.trailing_months[0]),
            "months_before": (_span(data.trailing_months[1]) if data.trailing_months[1] else None),
        },
        "kpis": [_kpi(k) for k in a.kpis],
        "cancellations": _cancellations(a),
        "monthly": [_month(m) for m in a.trend.window],
        "invoice_amounts": _amounts(a),
        "countries": _countries(a),
        "segments": _segments(a),
        "forecast": {name: f.to_dict() for name, f in a.forecasts.items()},
        "recommendations": [
            {
                "rank": r.rank,
                "key": r.key,
                "title": r.title,
                "text": r.text,
                "evidence": r.evidence,
                "at_stake": _money(r.at_stake),
                "basis": r.basis,
            }
            for r in recommendations
        ],
        "data_quality": _quality(a),
        "growth_bridge": _bridge(a),
        "accounts": _accounts(a),
        "retention": _retention(a),
        "products": _products(a.products),
    }


def _span(span: Span) -> dict[str, Any]:
    return {"title": span.title, "start": _iso(span.start), "end": _iso(span.end)}


def _comparisons(a: Analysis) -> list[dict[str, Any]]:
    """The period's span, then each comparison: the instants each side covers, or why none."""
    data = a.dataset
    result = [{"key": "current", "available": True, **_span(data.current), "reason": None}]
    for c in data.comparisons.values():
        entry: dict[str, Any] = {"key": c.key, "available": c.available}
        if c.other is not None and c.current is not None:
            entry.update(_span(c.other))
            entry["current"] = None if c.current == data.current else _span(c.current)
            lookback = data.lookbacks.get(c.key)
            entry["lookback_months"] = lookback.months if lookback else None
        else:
            entry.update(title=c.period.title, start=None, end=None, current=None)
            entry["lookback_months"] = None
        entry["reason"] = c.reason
        result.append(entry)
    return result


def _kpi(k: Any) -> dict[str, Any]:
    scale = _ratio if k.unit == "ratio" else _money
    comparisons = {
        c.key: {
            "title": c.title,
            "available": c.available,
            "value": scale(c.value),
            "change": _ratio(c.change),
            "current": scale(c.current),
            "lookback_months": c.lookback_months,
            "note": c.note,
        }
        for c in k.comparisons
    }
    yoy = comparisons.get("yoy", {})
    return {
        "key": k.key,
        "label": k.label,
        "unit": k.unit,
        "value": scale(k.value),
        "higher_is_better": k.higher_is_better,
        "change_kind": k.change_kind,
        "previous": yoy.get("value"),
        "change": yoy.get("change"),
        "comparison": yoy.get("title"),
        "comparisons": comparisons,
    }


def _month(m: Any) -> dict[str, Any]:
    return {
        "month": _iso(m.month),
        "gross": _money(m.gross),
        "cancellations": _money(m.cancellations),
        "net": _money(m.net),
        "growth": _ratio(m.growth),
        "product_cancelled": _money(m.product_cancelled),
        "fee_value": _money(m.fee_value),
        "correction_value": _money(m.correction_value),
        "fees_and_corrections": _money(m.fee_value + m.correction_value),
        "placed_orders": m.placed_orders,
        "cancelled_orders": m.cancelled_orders,
        "cancellation_rate": _ratio(m.cancellation_rate),
        "active_customers": m.active_customers,
        "new_customers": m.new_customers,
        "existing_customers": m.existing_customers,
        "guest_gross": _money(m.guest_gross),
        "partial": m.partial,
        "days_covered": m.days_covered,
        "days_in_month": m.days_in_month,
        "lookback_months": m.lookback_months,
        "left_censored": m.left_censored,
        "short_lookback": m.short_lookback,
        "in_period": m.in_period,
    }


def _amounts(a: Analysis) -> dict[str, Any]:
    s = a.invoice_amounts
    return {
        "invoices": s.invoices,
        "min": _money(s.minimum),
        "max": _money(s.maximum),
        "mean": _money(s.mean),
        "median": _money(s.median),
        "mode": _money(s.mode),
        "p85": _money(s.p85),
        "histogram": {
            "bin_width": s.bin_width,
            "bins": [{"lower": b.lower, "upper": b.upper, "invoices": b.invoices} for b in s.bins],
        },
    }


def _country(r: Any) -> dict[str, Any]:
    return {
        "country": r.country,
        "net": _money(r.net),
        "share": _ratio(r.share),
        "previous_net": _money(r.previous_net),
        "change": _ratio(r.change),
        "placed_orders": r.placed_orders,
        "active_customers": r.active_customers,
        "countries": r.countries,
        "top_customer": r.top_customer,
        "top_customer_share": _ratio(r.top_customer_share),
        "mover": r.mover,
        "mover_change": _money(r.mover_change) if r.previous_net is not None else None,
        "mover_share": _ratio(r.mover_share),
        "is_account": r.is_account,
    }


def _countries(a: Analysis) -> dict[str, Any]:
    c = a.countries
    listed = sum(r.active_customers for r in c.rows)  # a customer in two countries twice
    active = next((k.value for k in a.kpis if k.key == "active_customers"), None)
    customers = int(active) if active is not None else listed
    return {
        "comparison": c.comparison,
        "total_net": _money(c.total_net),
        "previous_total_net": _money(c.previous_total_net),
        "total_change": _ratio(c.total_change),
        "total_orders": sum(r.placed_orders for r in c.rows),
        "total_customers": customers,
        "customers_in_several": listed - customers,
        "count": c.countries,
        "rows": [_country(r) for r in c.rows],
        "all": [_country(r) for r in c.all_rows],
    }


def _segments(a: Analysis) -> dict[str, Any]:
    s = a.segments
    return {
        "snapshot": _iso(s.snapshot),
        "previous_snapshot": _iso(s.previous_snapshot),
        "window_days": s.window_days,
        "customers": s.customers,
        "summary": [
            {
                "segment": x.segment,
                "customers": x.customers,
                "share_customers": _ratio(x.share_customers),
                "monetary": _money(x.monetary),
                "share_monetary": _ratio(x.share_monetary),
                "avg_recency": _money(x.avg_recency),
                "avg_frequency": _money(x.avg_frequency),
                "avg_monetary": _money(x.avg_monetary),
                "action": x.action,
                "priority": x.priority,
                "csv": x.csv_file,
            }
            for x in s.summary
        ],
        "migration": {
            "covered": s.migration_covered,
            "rows": list(s.migration.rows),
            "columns": list(s.migration.columns),
            "counts": [list(r) for r in s.migration.counts],
        },
        "backtest": (
            {
                "snapshot": _iso(s.backtest.snapshot),
                "segments": [
                    {
                        "segment": x.segment,
                        "customers": x.customers,
                        "window_net": _money(x.window_net),
                        "following_net": _money(x.following_net),
                        "loss_share": _ratio(x.loss_share),
                        "change": _ratio(-x.loss_share if x.loss_share is not None else None),
                    }
                    for x in s.backtest.losses
                ],
            }
            if s.backtest
            else None
        ),
        "previous_covered": s.previous_covered,
        "workbook": WORKBOOK,
        "suggestions": {
            "pool_size": s.suggestion_pool,
            "min_support": s.suggestion_min_support,
            "customers": s.suggested,
        },
        "action_lists": [
            {
                "segment": x.segment,
                "action": x.action,
                "customers": x.customers,
                "monetary": _money(x.monetary),
                "spend_lost": _money(x.spend_lost),
                "order": x.order,
                "do_not_mail": x.do_not_mail,
                "suggested": x.suggested,
                "csv": x.csv_file,
                "shown": len(x.top),
                "top": list(x.top),
            }
            for x in s.action_lists
        ],
    }


def _counts(q: Any) -> dict[str, Any]:
    values = dataclasses.asdict(q)
    return {k: (_money(v) if isinstance(v, float) else v) for k, v in values.items()}


def _kinds(q: Any) -> dict[str, Any]:
    """A span's cancellation kinds, with fees and corrections together (what net sales
    carry besides the customers' own cancellations)."""
    return {**_counts(q), "fees_and_corrections": _money(q.fee_value + q.correction_value)}


def _cancellations(a: Analysis) -> dict[str, Any]:
    """The three kinds of cancellation (and the invoices that are not orders), period and
    whole warehouse, with the period's largest corrections."""
    q = a.quality
    return {
        "period": _kinds(q.cancellations),
        "warehouse": _kinds(q.cancellations_all),
        "largest_corrections": [
            {
                "invoice_no": c.invoice_no,
                "invoice_date": _iso(c.invoice_date),
                "stock_code": c.stock_code,
                "description": c.description,
                "quantity": c.quantity,
                "units": -c.quantity,
                "amount": _money(c.amount),
                "customer_id": c.customer_id,
                "placed_invoice": c.placed_invoice,
                "placed_date": _iso(c.placed_date),
                "minutes_after": c.minutes_after,
            }
            for c in q.largest_corrections
        ],
    }


def _quality(a: Analysis) -> dict[str, Any]:
    q = a.quality
    return {
        "lookback_months": q.lookback_months,
        "period": _counts(q.period),
        "warehouse": _counts(q.warehouse),
        "duplicate_clusters": [
            {
                "start": _iso(c.start),
                "end": _iso(c.end),
                "days": c.days,
                "copies": c.copies,
                "value": _money(c.value),
            }
            for c in q.clusters
        ],
        "scattered_duplicate_copies": q.scattered_copies,
        "non_product_codes": [
            {"stock_code": code, "lines": lines, "value": _money(value)}
            for code, lines, value in q.non_product_codes
        ],
        "non_product_codes_listed": min(len(q.non_product_codes), CODES_LISTED),
        "other_non_product_codes": _other_codes(q.non_product_codes[CODES_LISTED:]),
        "loads": [
            {
                "load_id": x.load_id,
                "file_name": x.file_name,
                "file_format": x.file_format,
                "sha256": x.sha256,
                "loaded_at": _iso(x.loaded_at),
                "rows_loaded": x.rows_loaded,
                "rows_rejected": x.rows_rejected,
                "rows_overlap": x.rows_overlap,
            }
            for x in q.loads
        ],
    }


def _other_codes(codes: tuple[tuple[str, int, float], ...]) -> dict[str, Any]:
    """The non-product codes the brief does not list, summed."""
    return {
        "codes": len(codes),
        "lines": sum(lines for _, lines, _ in codes),
        "value": _money(sum(value for _, _, value in codes)),
    }


def figures_json(figures: dict[str, Any]) -> bytes:
    """Stable bytes: sorted keys would hide the document's order, so keep it; no NaN."""
    return (json.dumps(figures, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _bridge(a: Analysis) -> dict[str, Any] | None:
    b = a.bridge
    if b is None:
        return None
    driver = b.driver
    return {
        "comparison": b.comparison,
        "previous_net": _money(b.previous_net),
        "current_net": _money(b.current_net),
        "change": _money(b.change),
        "splits": [
            {
                "key": split.key,
                "title": split.title,
                "parts": [
                    {
                        "key": part.key,
                        "label": part.label,
                        "change": _money(part.change),
                        "previous": _money(part.previous),
                        "current": _money(part.current),
                    }
                    for part in split.parts
                ],
            }
            for split in b.splits
        ],
        "movers": [{"customer_id": c, "change": _money(v)} for c, v in b.movers],
        "few_accounts": [{"customer_id": c, "change": _money(v)} for c, v in b.few_accounts],
        "driver": {
            "split": "market",
            "key": driver.key,
            "label": driver.label,
            "change": _money(driver.change),
            "sentence": b.sentence,
        },
    }


def _account(x: Any, total_net: float) -> dict[str, Any]:
    return {
        "customer_id": x.customer_id,
        "country": x.country,
        "net": _money(x.net),
        "share": _ratio(x.net / total_net) if total_net else None,
        "previous_net": _money(x.previous_net),
        "change": _money(x.change),
        "relative_change": _ratio(x.relative_change),
        "orders": x.orders,
        "last_order": _iso(x.last_order),
    }


def _accounts(a: Analysis) -> dict[str, Any]:
    x = a.accounts
    return {
        "total_net": _money(x.total_net),
        "customers": x.customers,
        "top": [_account(r, x.total_net) for r in x.top],
        "top_share": _ratio(x.top_share),
        "decile": x.decile,
        "decile_share": _ratio(x.decile_share),
        "watch": [_account(r, x.total_net) for r in x.watch],
        "watch_pool": x.watch_pool,
        "guest_orders": {
            "p99": _money(x.p99),
            "orders": x.guest_orders_count,
            "total": _money(x.guest_orders_total),
            "largest": [
                {
                    "invoice_no": g.invoice_no,
                    "invoice_date": _iso(g.invoice_date),
                    "country": g.country,
                    "amount": _money(g.amount),
                    "lines": g.lines,
                }
                for g in x.guest_orders
            ],
        },
    }


def _retention(a: Analysis) -> dict[str, Any]:
    r = a.retention
    again = r.bought_again
    return {
        "cohorts_from": _iso(r.cohorts_from),
        "cohorts": [
            {
                "month": _iso(c.month),
                "customers": c.customers,
                "active": list(c.active),
                "shares": [_ratio(v) for v in c.shares],
            }
            for c in r.cohorts
        ],
        "bought_again": (
            {
                "customers": again.customers,
                "again": again.again,
                "share": _ratio(again.share),
                "previous_net": _money(again.previous_net),
                "net": _money(again.net),
                "spend_ratio": _ratio(again.spend_ratio),
            }
            if again
            else None
        ),
    }


def _product(x: Any) -> dict[str, Any]:
    previous = x.previous_net
    return {
        "stock_code": x.stock_code,
        "description": x.description,
        "net": _money(x.net),
        "previous_net": _money(previous),
        "change": _money(x.change),
        "relative_change": _ratio(x.change / previous) if previous and previous > 0 else None,
        "first_sold": _iso(x.first_sold),
        "product_cancelled": _money(x.product_cancelled),
        "product_lines": x.product_lines,
    }


def _products(p: Any) -> dict[str, Any]:
    v = p.pvm
    return {
        "codes": p.codes,
        "net": _money(p.net),
        "top": [_product(x) for x in p.top],
        "risers": [_product(x) for x in p.risers],
        "fallers": [_product(x) for x in p.fallers],
        "new": {
            "codes": p.new_codes,
            "net": _money(p.new_net),
            "share": _ratio(p.new_net / p.net) if p.net else None,
            "lookback_short": p.new_lookback_short,
            "top": [_product(x) for x in p.new_top],
        },
        "price_volume_mix": (
            {
                "products": v.products,
                "value": _money(v.value),
                "previous_value": _money(v.previous_value),
                "units": v.units,
                "previous_units": v.previous_units,
                "average_price": _money(v.average_price),
                "previous_average_price": _money(v.previous_average_price),
                "price": _money(v.price),
                "volume": _money(v.volume),
                "mix": _money(v.mix),
                "value_change": _money(v.value - v.previous_value),
                "relative_change": _ratio(v.value / v.previous_value - 1),
                "units_change": _ratio(v.units / v.previous_units - 1),
                "price_share": _ratio(v.price / v.previous_value),
                "volume_share": _ratio(v.volume / v.previous_value),
                "mix_share": _ratio(v.mix / v.previous_value),
            }
            if v
            else None
        ),
        "cancelled": [_product(x) for x in p.cancelled],
    }
