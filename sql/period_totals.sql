-- Headline totals of one span of days (a period, or its comparison cut like-for-like).
-- :start             timestamp  first instant of the span
-- :end               timestamp  first instant after the span
-- gross              money      sum of placed line amounts
-- cancellations      money      sum of cancelled line amounts (negative)
-- net                money      gross + cancellations
-- placed_orders      int        distinct placed invoices
-- cancelled_orders   int        distinct cancelled invoices
-- active_customers   int        customers with a placed invoice in the span
-- new_customers      int        active customers whose first placed invoice ever is in the span
-- guest_gross        money      gross sales of placed invoices without a customer id
-- new_customer_net   money      net sales of customers whose first placed invoice is in the span
WITH first_purchase AS (
    SELECT customer_id, min(invoice_date) AS first_at
    FROM invoices
    WHERE line_class = 'placed' AND customer_id IS NOT NULL
    GROUP BY customer_id
),
span AS (
    SELECT i.*, f.first_at
    FROM invoices AS i
    LEFT JOIN first_purchase AS f ON f.customer_id = i.customer_id
    WHERE i.invoice_date >= cast(:start AS timestamp)
      AND i.invoice_date < cast(:end AS timestamp)
      AND i.line_class IN ('placed', 'cancelled')
)
SELECT
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'placed'), 0) AS numeric(18,3)) AS gross,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'cancelled'), 0) AS numeric(18,3))
        AS cancellations,
    cast(coalesce(sum(amount), 0) AS numeric(18,3)) AS net,
    count(*) FILTER (WHERE line_class = 'placed') AS placed_orders,
    count(*) FILTER (WHERE line_class = 'cancelled') AS cancelled_orders,
    count(DISTINCT customer_id) FILTER (WHERE line_class = 'placed') AS active_customers,
    count(DISTINCT customer_id) FILTER (
        WHERE line_class = 'placed' AND first_at >= cast(:start AS timestamp)
    ) AS new_customers,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'placed' AND customer_id IS NULL), 0)
        AS numeric(18,3)) AS guest_gross,
    cast(coalesce(sum(amount) FILTER (WHERE first_at >= cast(:start AS timestamp)), 0)
        AS numeric(18,3)) AS new_customer_net
FROM span
