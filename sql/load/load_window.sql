-- The invoice dates a load covers, for the registry.
-- :load_id       int        the load just written
-- first_invoice  timestamp  its earliest invoice date
-- last_invoice   timestamp  its latest invoice date
SELECT min(invoice_date) AS first_invoice, max(invoice_date) AS last_invoice
FROM retail
WHERE load_id = :load_id
