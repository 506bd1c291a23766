-- Net sales, orders and customers per country for a span.
-- :start             timestamp  first instant of the span
-- :end               timestamp  first instant after the span
-- country            text       the country on the invoices
-- net                money      placed + cancelled line amounts
-- gross              money      placed line amounts
-- placed_orders      int        distinct placed invoices
-- active_customers   int        customers with a placed invoice
WITH sales AS (
    SELECT
        coalesce(country, 'Unspecified') AS country,
        sum(amount) AS net,
        sum(amount) FILTER (WHERE line_class = 'placed') AS gross,
        count(*) FILTER (WHERE line_class = 'placed') AS placed_orders
    FROM invoices
    WHERE line_class IN ('placed', 'cancelled')
      AND invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
    GROUP BY 1
),
buyers AS (
    -- distinct (country, customer) rows counted: cheaper than count(DISTINCT) on PostgreSQL
    SELECT country, count(*) AS active_customers
    FROM (
        SELECT DISTINCT coalesce(country, 'Unspecified') AS country, customer_id
        FROM invoices
        WHERE line_class = 'placed'
          AND customer_id IS NOT NULL
          AND invoice_date >= cast(:start AS timestamp)
          AND invoice_date < cast(:end AS timestamp)
    ) AS country_customers
    GROUP BY country
)
SELECT
    s.country,
    cast(s.net AS numeric(18,3)) AS net,
    cast(coalesce(s.gross, 0) AS numeric(18,3)) AS gross,
    s.placed_orders,
    coalesce(b.active_customers, 0) AS active_customers
FROM sales AS s
LEFT JOIN buyers AS b ON b.country = s.country
ORDER BY 2 DESC, 1
