-- What the action lists say about each customer with an order in the RFM window, beside
-- rfm_values: their net sales in the window before it (the same customers' spend a year
-- earlier), how often they order, and what their latest order was worth.
-- :snapshot           timestamp  the snapshot (first instant after the window)
-- :window_start       timestamp  the snapshot minus the RFM window
-- :previous_start     timestamp  the window's start minus the RFM window
-- customer_id         int        the customer
-- previous_monetary   money      net sales in [previous_start, window_start) (placed + cancelled)
-- days_between        float      days from the first to the last order of the window, over the
--                                orders less one; null with one order
-- last_order_value    money      the amount of the latest order of the window (ties on the time:
--                                the higher invoice number, as rfm_values picks it)
WITH window_orders AS (
    SELECT customer_id, invoice_no, invoice_date, amount
    FROM invoices
    WHERE customer_id IS NOT NULL
      AND is_order
      AND invoice_date >= cast(:window_start AS timestamp)
      AND invoice_date < cast(:snapshot AS timestamp)
),
rhythm AS (
    SELECT
        customer_id,
        count(*) AS orders,
        cast(max(invoice_date) AS date) - cast(min(invoice_date) AS date) AS days
    FROM window_orders
    GROUP BY customer_id
),
latest AS (
    SELECT DISTINCT ON (customer_id) customer_id, amount
    FROM window_orders
    ORDER BY customer_id, invoice_date DESC, invoice_no DESC
),
previous AS (
    SELECT customer_id, sum(amount) AS net
    FROM invoices
    WHERE customer_id IS NOT NULL
      AND line_class IN ('placed', 'cancelled')
      AND invoice_date >= cast(:previous_start AS timestamp)
      AND invoice_date < cast(:window_start AS timestamp)
    GROUP BY customer_id
)
SELECT
    r.customer_id,
    cast(coalesce(p.net, 0) AS numeric(18,3)) AS previous_monetary,
    CASE WHEN r.orders > 1 THEN cast(r.days AS double precision) / (r.orders - 1) END
        AS days_between,
    cast(l.amount AS numeric(18,3)) AS last_order_value
FROM rhythm AS r
JOIN latest AS l ON l.customer_id = r.customer_id
LEFT JOIN previous AS p ON p.customer_id = r.customer_id
ORDER BY r.customer_id
