-- How many invoices the derived tables hold (0: no brief can be built yet).
-- invoices  int  rows of invoices
SELECT count(*) AS invoices
FROM invoices
