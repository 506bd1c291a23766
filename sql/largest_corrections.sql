-- The largest corrections of a span: cancelled product lines that reversed a placed line.
-- :start            timestamp  first instant of the span
-- :end              timestamp  first instant after the span
-- :rows             int        how many to list
-- invoice_no        text       the cancellation invoice
-- invoice_date      timestamp  when it was made
-- stock_code        text       the product
-- description       text       its description
-- quantity          int        units reversed (negative)
-- amount            money      value reversed (negative)
-- customer_id       int        the customer (null for guests)
-- placed_invoice    text       the invoice whose line it reversed
-- placed_date       timestamp  when that invoice was made
SELECT
    invoice_no, invoice_date, stock_code, description, quantity,
    cast(amount AS numeric(18,3)) AS amount, customer_id, placed_invoice, placed_date
FROM corrections
WHERE invoice_date >= cast(:start AS timestamp)
  AND invoice_date < cast(:end AS timestamp)
ORDER BY amount, invoice_date, invoice_no, stock_code
LIMIT :rows
