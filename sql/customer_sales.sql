-- Each customer's net sales in a span (placed + cancelled lines of every kind).
-- :start          timestamp  first instant of the span
-- :end            timestamp  first instant after the span
-- customer_id     int        the customer
-- net             money      net sales in the span
SELECT customer_id, cast(sum(amount) AS numeric(18,3)) AS net
FROM invoices
WHERE customer_id IS NOT NULL
  AND line_class IN ('placed', 'cancelled')
  AND invoice_date >= cast(:start AS timestamp)
  AND invoice_date < cast(:end AS timestamp)
GROUP BY customer_id
ORDER BY customer_id
