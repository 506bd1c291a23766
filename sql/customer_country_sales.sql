-- Net sales and orders per country and customer in a span and in the span compared with,
-- guests of a country together as one row without a customer id. What the countries table
-- (totals, biggest customer's share) and the country rules (how much of a change is one
-- account) are computed from.
-- :start              timestamp  first instant of the span
-- :end                timestamp  first instant after the span
-- :previous_start     timestamp  first instant of the span compared with
-- :previous_end       timestamp  first instant after it (equal to the start: none)
-- country             text       the country on the invoices ("Unspecified" when empty)
-- customer_id         int        the customer; null for guests
-- net                 money      net sales in the span (placed + cancelled)
-- orders              int        orders in the span
-- previous_net        money      net sales in the span compared with
-- previous_orders     int        orders then
-- last_order          timestamp  a customer's latest order before the span ends, in the
--                                whole warehouse (an account with no order in the span
--                                shows when it last ordered, not its order a year ago);
--                                guests: their latest order in either span
WITH spans AS (
    SELECT
        coalesce(country, 'Unspecified') AS country,
        customer_id,
        invoice_date >= cast(:start AS timestamp) AND invoice_date < cast(:end AS timestamp)
            AS now,
        amount,
        is_order,
        invoice_date
    FROM invoices
    WHERE line_class IN ('placed', 'cancelled')
      AND ((invoice_date >= cast(:start AS timestamp) AND invoice_date < cast(:end AS timestamp))
        OR (invoice_date >= cast(:previous_start AS timestamp)
            AND invoice_date < cast(:previous_end AS timestamp)))
),
last_orders AS (
    SELECT customer_id, max(invoice_date) AS last_order
    FROM invoices
    WHERE is_order AND customer_id IS NOT NULL AND invoice_date < cast(:end AS timestamp)
    GROUP BY customer_id
),
per_country AS (
    SELECT
        country,
        customer_id,
        cast(coalesce(sum(amount) FILTER (WHERE now), 0) AS numeric(18,3)) AS net,
        count(*) FILTER (WHERE now AND is_order) AS orders,
        cast(coalesce(sum(amount) FILTER (WHERE NOT now), 0) AS numeric(18,3)) AS previous_net,
        count(*) FILTER (WHERE NOT now AND is_order) AS previous_orders,
        max(invoice_date) FILTER (WHERE is_order) AS last_order
    FROM spans
    GROUP BY country, customer_id
)
SELECT
    c.country,
    c.customer_id,
    c.net,
    c.orders,
    c.previous_net,
    c.previous_orders,
    coalesce(l.last_order, c.last_order) AS last_order
FROM per_country AS c
LEFT JOIN last_orders AS l ON l.customer_id = c.customer_id
ORDER BY c.country, c.customer_id NULLS FIRST

