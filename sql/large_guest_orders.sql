-- Guest orders (no customer id) above the 99th percentile of the span's order amounts:
-- wholesale orders with no account attached, largest first.
-- :start          timestamp  first instant of the span
-- :end            timestamp  first instant after the span
-- :rows           int        how many to list
-- invoice_no      text       the order
-- invoice_date    timestamp  when
-- country         text       where
-- amount          money      its amount
-- line_count      int        its lines
-- p99             float      the 99th percentile of the span's order amounts
-- orders          int        guest orders above it in all
-- total           money      their amount in all
WITH orders AS (
    SELECT invoice_no, invoice_date, country, amount, line_count, customer_id
    FROM invoices
    WHERE is_order
      AND invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
),
cut AS (
    SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY cast(amount AS double precision)) AS p99
    FROM orders
)
SELECT
    o.invoice_no, o.invoice_date, o.country, cast(o.amount AS numeric(18,3)) AS amount,
    o.line_count, c.p99,
    count(*) OVER () AS orders,
    cast(sum(o.amount) OVER () AS numeric(18,3)) AS total
FROM orders AS o
CROSS JOIN cut AS c
WHERE o.customer_id IS NULL AND cast(o.amount AS double precision) > c.p99
ORDER BY o.amount DESC, o.invoice_no
LIMIT :rows
