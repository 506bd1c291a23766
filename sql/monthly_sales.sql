-- Net sales, orders and customers per calendar month of a window.
-- Months without any invoice are absent (the analysis fills them with zeros).
-- :start             timestamp  first instant of the window
-- :end               timestamp  first instant after the window
-- month              date       first day of the month
-- gross              money      sum of placed line amounts
-- cancellations      money      sum of cancelled line amounts (negative)
-- net                money      gross + cancellations
-- placed_orders      int        distinct placed invoices
-- cancelled_orders   int        distinct cancelled invoices
-- active_customers   int        customers with a placed invoice in the month
-- new_customers      int        active customers whose first placed invoice ever is in the month
-- guest_gross        money      gross sales of placed invoices without a customer id
WITH first_month AS (
    SELECT customer_id, min(month) AS first_month
    FROM invoices
    WHERE line_class = 'placed' AND customer_id IS NOT NULL
    GROUP BY customer_id
),
period_invoices AS (
    SELECT i.*, f.first_month
    FROM invoices AS i
    LEFT JOIN first_month AS f ON f.customer_id = i.customer_id
    WHERE i.invoice_date >= cast(:start AS timestamp)
      AND i.invoice_date < cast(:end AS timestamp)
      AND i.line_class IN ('placed', 'cancelled')
)
SELECT
    month,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'placed'), 0) AS numeric(18,3)) AS gross,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'cancelled'), 0) AS numeric(18,3))
        AS cancellations,
    cast(sum(amount) AS numeric(18,3)) AS net,
    count(*) FILTER (WHERE line_class = 'placed') AS placed_orders,
    count(*) FILTER (WHERE line_class = 'cancelled') AS cancelled_orders,
    count(DISTINCT customer_id) FILTER (WHERE line_class = 'placed') AS active_customers,
    count(DISTINCT customer_id) FILTER (WHERE line_class = 'placed' AND first_month = month)
        AS new_customers,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'placed' AND customer_id IS NULL), 0)
        AS numeric(18,3)) AS guest_gross
FROM period_invoices
GROUP BY month
ORDER BY month
