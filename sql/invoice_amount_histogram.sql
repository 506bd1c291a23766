-- How many orders (positive placed invoices, not wholly corrected) fall in each amount bin,
-- up to a ceiling.
-- :start      timestamp  first instant of the span
-- :end        timestamp  first instant after the span
-- :width      float      bin width in GBP
-- :ceiling    float      largest amount counted (the 85th percentile)
-- bin         int        bin number: amounts in [bin * width, (bin + 1) * width)
-- invoices    int        invoices in the bin
SELECT
    cast(floor(cast(amount AS double precision) / cast(:width AS double precision)) AS integer)
        AS bin,
    count(*) AS invoices
FROM invoices
WHERE is_order
  AND cast(amount AS double precision) <= cast(:ceiling AS double precision)
  AND invoice_date >= cast(:start AS timestamp)
  AND invoice_date < cast(:end AS timestamp)
GROUP BY 1
ORDER BY 1
