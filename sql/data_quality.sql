-- Data-quality counts of a span of days, from the per-day summary built at load time.
-- :start                  timestamp  first instant of the span
-- :end                    timestamp  first instant after the span
-- raw_lines               int        lines as received
-- distinct_lines          int        lines once exact duplicates are set aside
-- duplicate_copies        int        extra copies set aside
-- duplicate_value         money      line amount of those copies
-- guest_lines             int        distinct lines without a customer id
-- placed_lines            int        distinct lines of placed invoices
-- cancelled_lines         int        distinct lines of cancelled invoices (C...)
-- adjustment_lines        int        distinct lines of adjustments (A...), excluded from sales
-- adjustment_value        money      their amount
-- zero_price_lines        int        distinct lines priced 0
-- non_product_lines       int        lines whose stock code is a service or adjustment code
-- non_product_value       money      their amount outside adjustments (counted in sales)
-- negative_placed_lines   int        placed lines with a negative quantity
-- reversed_lines          int        placed lines that a correction reversed
-- product_lines           int        cancelled lines that are product cancellations
-- product_cancelled       money      their amount (negative)
-- fee_lines               int        cancelled lines with a fee or adjustment code
-- fee_value               money      their amount (negative)
-- correction_lines        int        cancelled lines that are corrections
-- correction_value        money      their amount (negative)
-- cancelled_orders        int        cancellation invoices with a product cancellation
-- zero_invoices           int        placed invoices with a zero amount
-- corrected_invoices      int        positive placed invoices wholly reversed by corrections
SELECT
    coalesce(sum(raw_lines), 0) AS raw_lines,
    coalesce(sum(distinct_lines), 0) AS distinct_lines,
    coalesce(sum(duplicate_copies), 0) AS duplicate_copies,
    cast(coalesce(sum(duplicate_value), 0) AS numeric(18,3)) AS duplicate_value,
    coalesce(sum(guest_lines), 0) AS guest_lines,
    coalesce(sum(placed_lines), 0) AS placed_lines,
    coalesce(sum(cancelled_lines), 0) AS cancelled_lines,
    coalesce(sum(adjustment_lines), 0) AS adjustment_lines,
    cast(coalesce(sum(adjustment_value), 0) AS numeric(18,3)) AS adjustment_value,
    coalesce(sum(zero_price_lines), 0) AS zero_price_lines,
    coalesce(sum(non_product_lines), 0) AS non_product_lines,
    cast(coalesce(sum(non_product_value), 0) AS numeric(18,3)) AS non_product_value,
    coalesce(sum(negative_placed_lines), 0) AS negative_placed_lines,
    coalesce(sum(reversed_lines), 0) AS reversed_lines,
    coalesce(sum(product_lines), 0) AS product_lines,
    cast(coalesce(sum(product_cancelled), 0) AS numeric(18,3)) AS product_cancelled,
    coalesce(sum(fee_lines), 0) AS fee_lines,
    cast(coalesce(sum(fee_value), 0) AS numeric(18,3)) AS fee_value,
    coalesce(sum(correction_lines), 0) AS correction_lines,
    cast(coalesce(sum(correction_value), 0) AS numeric(18,3)) AS correction_value,
    coalesce(sum(cancelled_orders), 0) AS cancelled_orders,
    coalesce(sum(zero_invoices), 0) AS zero_invoices,
    coalesce(sum(corrected_invoices), 0) AS corrected_invoices
FROM daily_quality
WHERE day >= cast(cast(:start AS timestamp) AS date)
  AND cast(day AS timestamp) < cast(:end AS timestamp)  -- a day the span ends inside counts
