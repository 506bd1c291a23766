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
WITH sales AS (
    SELECT
        month,
        sum(amount) FILTER (WHERE line_class = 'placed') AS gross,
        sum(amount) FILTER (WHERE line_class = 'cancelled') AS cancellations,
        sum(amount) AS net,
        count(*) FILTER (WHERE line_class = 'placed') AS placed_orders,
        count(*) FILTER (WHERE line_class = 'cancelled') AS cancelled_orders,
        sum(amount) FILTER (WHERE line_class = 'placed' AND customer_id IS NULL) AS guest_gross
    FROM invoices
    WHERE invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
      AND line_class IN ('placed', 'cancelled')
    GROUP BY month
),
buyers AS (
    -- distinct (month, customer) rows counted, not count(DISTINCT): PostgreSQL sorts less;
    -- a customer is new in the month of their first placed invoice
    SELECT
        month,
        count(*) AS active_customers,
        count(*) FILTER (WHERE first_purchase >= cast(month AS timestamp)) AS new_customers
    FROM (
        SELECT DISTINCT month, customer_id, first_purchase
        FROM invoices
        WHERE invoice_date >= cast(:start AS timestamp)
          AND invoice_date < cast(:end AS timestamp)
          AND line_class = 'placed'
          AND customer_id IS NOT NULL
    ) AS customer_months
    GROUP BY month
)
SELECT
    s.month,
    cast(coalesce(s.gross, 0) AS numeric(18,3)) AS gross,
    cast(coalesce(s.cancellations, 0) AS numeric(18,3)) AS cancellations,
    cast(s.net AS numeric(18,3)) AS net,
    s.placed_orders,
    s.cancelled_orders,
    coalesce(b.active_customers, 0) AS active_customers,
    coalesce(b.new_customers, 0) AS new_customers,
    cast(coalesce(s.guest_gross, 0) AS numeric(18,3)) AS guest_gross
FROM sales AS s
LEFT JOIN buyers AS b ON b.month = s.month
ORDER BY s.month
