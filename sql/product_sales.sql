-- Net sales, units and cancellations per product in a span and in the span compared with.
-- Whole months come from product_months, the days of partial months from lines: each span
-- is [start, end) = [start, months_start) + whole months [months_start, months_end) +
-- [months_end, end). Products sold in neither span are absent.
-- :start                    timestamp  first instant of the span
-- :months_start             timestamp  first whole month of the span (end if none)
-- :months_end               timestamp  first instant after its whole months (end if none)
-- :end                      timestamp  first instant after the span
-- :previous_start           timestamp  the same four instants of the span compared with
-- :previous_months_start    timestamp  its first whole month
-- :previous_months_end      timestamp  after its whole months
-- :previous_end             timestamp  after it (all four equal: no comparison)
-- stock_code                text       the product code
-- description               text       its most frequent description
-- first_sold                timestamp  its first sale in the whole warehouse
-- net                       money      net sales in the span (placed + cancelled lines)
-- sold_value                money      placed lines with a price that no correction reversed
-- sold_units                int        their units
-- product_cancelled         money      product cancellations (negative)
-- product_lines             int        product-cancellation lines
-- previous_net              money      net sales in the span compared with
-- previous_sold_value       money      placed lines not reversed, then
-- previous_sold_units       int        their units, then
WITH pieces AS (
    SELECT stock_code, true AS now, net, sold_value, sold_units, product_cancelled,
           product_lines
    FROM product_months
    WHERE month >= cast(cast(:months_start AS timestamp) AS date)
      AND month < cast(cast(:months_end AS timestamp) AS date)
    UNION ALL
    SELECT stock_code, false, net, sold_value, sold_units, product_cancelled, product_lines
    FROM product_months
    WHERE month >= cast(cast(:previous_months_start AS timestamp) AS date)
      AND month < cast(cast(:previous_months_end AS timestamp) AS date)
    UNION ALL
    SELECT
        l.stock_code,
        l.invoice_date >= cast(:start AS timestamp) AND l.invoice_date < cast(:end AS timestamp),
        l.amount,
        CASE WHEN l.line_class = 'placed' AND l.unit_price > 0 AND NOT l.reversed
             THEN l.amount ELSE 0 END,
        CASE WHEN l.line_class = 'placed' AND l.unit_price > 0 AND NOT l.reversed
             THEN l.quantity ELSE 0 END,
        CASE WHEN l.cancel_kind = 'product' THEN l.amount ELSE 0 END,
        CASE WHEN l.cancel_kind = 'product' THEN 1 ELSE 0 END
    FROM lines AS l
    JOIN products AS p ON p.stock_code = l.stock_code
    WHERE l.line_class IN ('placed', 'cancelled')
      AND ((l.invoice_date >= cast(:start AS timestamp)
            AND l.invoice_date < cast(:months_start AS timestamp))
        OR (l.invoice_date >= cast(:months_end AS timestamp)
            AND l.invoice_date < cast(:end AS timestamp))
        OR (l.invoice_date >= cast(:previous_start AS timestamp)
            AND l.invoice_date < cast(:previous_months_start AS timestamp))
        OR (l.invoice_date >= cast(:previous_months_end AS timestamp)
            AND l.invoice_date < cast(:previous_end AS timestamp)))
),
sums AS (
    SELECT
        stock_code,
        sum(net) FILTER (WHERE now) AS net,
        sum(sold_value) FILTER (WHERE now) AS sold_value,
        sum(sold_units) FILTER (WHERE now) AS sold_units,
        sum(product_cancelled) FILTER (WHERE now) AS product_cancelled,
        sum(product_lines) FILTER (WHERE now) AS product_lines,
        sum(net) FILTER (WHERE NOT now) AS previous_net,
        sum(sold_value) FILTER (WHERE NOT now) AS previous_sold_value,
        sum(sold_units) FILTER (WHERE NOT now) AS previous_sold_units
    FROM pieces
    GROUP BY stock_code
)
SELECT
    s.stock_code,
    p.description,
    p.first_sold,
    cast(coalesce(s.net, 0) AS numeric(18,3)) AS net,
    cast(coalesce(s.sold_value, 0) AS numeric(18,3)) AS sold_value,
    cast(coalesce(s.sold_units, 0) AS bigint) AS sold_units,
    cast(coalesce(s.product_cancelled, 0) AS numeric(18,3)) AS product_cancelled,
    cast(coalesce(s.product_lines, 0) AS bigint) AS product_lines,
    cast(coalesce(s.previous_net, 0) AS numeric(18,3)) AS previous_net,
    cast(coalesce(s.previous_sold_value, 0) AS numeric(18,3)) AS previous_sold_value,
    cast(coalesce(s.previous_sold_units, 0) AS bigint) AS previous_sold_units
FROM sums AS s
JOIN products AS p ON p.stock_code = s.stock_code
