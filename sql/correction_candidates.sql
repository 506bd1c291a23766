-- Every pair of a cancelled product line and a placed line it could reverse: same
-- customer (or both without one), same stock code, exactly opposite quantity, same unit
-- price, and the placed line at most 24 hours (inclusive) before the cancellation.
-- From these pairs lgs_reports.corrections picks the corrections (each cancellation, in
-- time order, takes the earliest candidate that no earlier cancellation took).
-- cancel_line       int        lines.line_id of the cancelled line
-- cancel_date       timestamp  its invoice date
-- cancel_invoice    text       its invoice number
-- cancel_text       text       its description (then country): the last tie-breaks
-- cancel_country    text       its country
-- placed_line       int        lines.line_id of the placed line
-- placed_date       timestamp  its invoice date
-- placed_invoice    text       its invoice number
-- placed_text       text       its description
-- placed_country    text       its country
WITH cancelled AS (
    SELECT l.*
    FROM lines AS l
    JOIN stock_codes AS s ON s.stock_code = l.stock_code
    WHERE l.line_class = 'cancelled' AND s.is_product
)
SELECT
    c.line_id AS cancel_line,
    c.invoice_date AS cancel_date,
    c.invoice_no AS cancel_invoice,
    coalesce(c.description, '') AS cancel_text,
    coalesce(c.country, '') AS cancel_country,
    p.line_id AS placed_line,
    p.invoice_date AS placed_date,
    p.invoice_no AS placed_invoice,
    coalesce(p.description, '') AS placed_text,
    coalesce(p.country, '') AS placed_country
FROM cancelled AS c
JOIN lines AS p
  ON p.line_class = 'placed'
 AND p.stock_code = c.stock_code
 AND p.quantity = -c.quantity
 AND p.unit_price = c.unit_price
 AND p.customer_id IS NOT DISTINCT FROM c.customer_id
 AND p.invoice_date <= c.invoice_date
 AND p.invoice_date >= c.invoice_date - INTERVAL '24 hours'
