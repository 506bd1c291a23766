-- Statistics of invoice amounts: the orders of the span (positive placed invoices that
-- corrections did not wholly reverse).
-- :start      timestamp  first instant of the span
-- :end        timestamp  first instant after the span
-- invoices    int        how many such invoices
-- minimum     money      smallest amount
-- maximum     money      largest amount
-- mean        float      average amount
-- median      float      50th percentile (continuous)
-- mode        money      most frequent amount (the smallest of equally frequent ones)
-- p85         float      85th percentile (continuous)
WITH amounts AS (
    SELECT amount
    FROM invoices
    WHERE is_order
      AND invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
),
most_frequent AS (
    SELECT amount
    FROM amounts
    GROUP BY amount
    ORDER BY count(*) DESC, amount ASC
    LIMIT 1
)
SELECT
    count(*) AS invoices,
    min(amount) AS minimum,
    max(amount) AS maximum,
    avg(cast(amount AS double precision)) AS mean,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY cast(amount AS double precision)) AS median,
    (SELECT amount FROM most_frequent) AS mode,
    percentile_cont(0.85) WITHIN GROUP (ORDER BY cast(amount AS double precision)) AS p85
FROM amounts
