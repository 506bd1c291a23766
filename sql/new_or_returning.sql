-- Customers "new or returning after N months" in a span (BRIEF_SPEC, look-back): those
-- with an order in the span and none in the N calendar months before it, which start at
-- :since. Two spans counted this way with the same N compare on equal look-back.
-- :start          timestamp  first instant of the span
-- :end            timestamp  first instant after the span
-- :since          timestamp  first instant of the N months before the span
-- customers       int        customers with an order in the span and none since :since
-- first_ever      int        of them, those whose first order ever is in the span
-- net             money      their net sales in the span
WITH per_customer AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE is_order AND invoice_date >= cast(:start AS timestamp))
            AS orders,
        count(*) FILTER (WHERE is_order AND invoice_date < cast(:start AS timestamp))
            AS orders_before,
        sum(amount) FILTER (WHERE invoice_date >= cast(:start AS timestamp)) AS net,
        min(first_purchase) AS first_purchase
    FROM invoices
    WHERE customer_id IS NOT NULL
      AND line_class IN ('placed', 'cancelled')
      AND invoice_date >= cast(:since AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
    GROUP BY customer_id
)
SELECT
    count(*) AS customers,
    count(*) FILTER (WHERE first_purchase >= cast(:start AS timestamp)) AS first_ever,
    cast(coalesce(sum(net), 0) AS numeric(18,3)) AS net
FROM per_customer
WHERE orders > 0 AND orders_before = 0
