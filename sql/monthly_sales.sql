-- Net sales, orders and customers per calendar month of a window.
-- Months without any invoice are absent (the analysis fills them with zeros).
-- :start               timestamp  first instant of the window
-- :end                 timestamp  first instant after the window
-- month                date       first day of the month
-- gross                money      sum of placed line amounts
-- cancellations        money      sum of cancelled line amounts of every kind (negative)
-- net                  money      gross + cancellations
-- product_cancelled    money      product-cancellation line amounts (negative)
-- fee_value            money      fee and adjustment cancellation lines (negative)
-- correction_value     money      correction lines (negative)
-- placed_orders        int        orders: positive placed invoices, not wholly corrected
-- cancelled_orders     int        cancellation invoices with a product-cancellation line
-- active_customers     int        customers with an order in the month
-- new_customers        int        active customers whose first order ever is in the month
-- guest_gross          money      gross sales of placed invoices without a customer id
WITH sales AS (
    SELECT
        month,
        sum(amount) FILTER (WHERE line_class = 'placed') AS gross,
        sum(amount) FILTER (WHERE line_class = 'cancelled') AS cancellations,
        sum(amount) AS net,
        sum(product_value) AS product_cancelled,
        sum(fee_value) AS fee_value,
        sum(correction_value) AS correction_value,
        count(*) FILTER (WHERE is_order) AS placed_orders,
        count(*) FILTER (WHERE product_lines > 0) AS cancelled_orders,
        sum(amount) FILTER (WHERE line_class = 'placed' AND customer_id IS NULL) AS guest_gross
    FROM invoices
    WHERE invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
      AND line_class IN ('placed', 'cancelled')
    GROUP BY month
),
buyers AS (
    -- distinct (month, customer) rows counted, not count(DISTINCT): PostgreSQL sorts less;
    -- a customer is new in the month of their first order
    SELECT
        month,
        count(*) AS active_customers,
        count(*) FILTER (WHERE first_purchase >= cast(month AS timestamp)) AS new_customers
    FROM (
        SELECT DISTINCT month, customer_id, first_purchase
        FROM invoices
        WHERE invoice_date >= cast(:start AS timestamp)
          AND invoice_date < cast(:end AS timestamp)
          AND is_order
          AND customer_id IS NOT NULL
    ) AS customer_months
    GROUP BY month
)
SELECT
    s.month,
    cast(coalesce(s.gross, 0) AS numeric(18,3)) AS gross,
    cast(coalesce(s.cancellations, 0) AS numeric(18,3)) AS cancellations,
    cast(s.net AS numeric(18,3)) AS net,
    cast(coalesce(s.product_cancelled, 0) AS numeric(18,3)) AS product_cancelled,
    cast(coalesce(s.fee_value, 0) AS numeric(18,3)) AS fee_value,
    cast(coalesce(s.correction_value, 0) AS numeric(18,3)) AS correction_value,
    s.placed_orders,
    s.cancelled_orders,
    coalesce(b.active_customers, 0) AS active_customers,
    coalesce(b.new_customers, 0) AS new_customers,
    cast(coalesce(s.guest_gross, 0) AS numeric(18,3)) AS guest_gross
FROM sales AS s
LEFT JOIN buyers AS b ON b.month = s.month
ORDER BY s.month
