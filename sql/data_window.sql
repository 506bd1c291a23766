-- The warehouse's extent: what a report can cover, and whether it is the generated sample.
-- first_invoice     timestamp  earliest invoice date
-- last_invoice      timestamp  latest invoice date (the data "ends" here)
-- invoices          int        distinct invoices (any class)
-- customers         int        distinct customer ids
-- is_sample         bool       true when any load was the generated sample
SELECT
    (SELECT min(invoice_date) FROM invoices) AS first_invoice,
    (SELECT max(invoice_date) FROM invoices) AS last_invoice,
    (SELECT count(*) FROM invoices) AS invoices,
    (SELECT count(*) FROM (SELECT customer_id FROM invoices WHERE customer_id IS NOT NULL
                       GROUP BY customer_id) AS seen) AS customers,
    (SELECT coalesce(max(CASE WHEN is_sample THEN 1 ELSE 0 END), 0) = 1 FROM load_registry)
        AS is_sample
