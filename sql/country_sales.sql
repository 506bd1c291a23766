-- Net sales, orders and customers per country for a span.
-- :start             timestamp  first instant of the span
-- :end               timestamp  first instant after the span
-- country            text       the country on the invoices
-- net                money      placed + cancelled line amounts
-- gross              money      placed line amounts
-- placed_orders      int        distinct placed invoices
-- active_customers   int        customers with a placed invoice
SELECT
    coalesce(country, 'Unspecified') AS country,
    cast(sum(amount) AS numeric(18,3)) AS net,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'placed'), 0) AS numeric(18,3)) AS gross,
    count(*) FILTER (WHERE line_class = 'placed') AS placed_orders,
    count(DISTINCT customer_id) FILTER (WHERE line_class = 'placed') AS active_customers
FROM invoices
WHERE line_class IN ('placed', 'cancelled')
  AND invoice_date >= cast(:start AS timestamp)
  AND invoice_date < cast(:end AS timestamp)
GROUP BY 1
ORDER BY 2 DESC, 1
