-- DuckDB, in the load's scratch database: append one batch of checked rows (the
-- DataFrame registered as `incoming_batch`) to the staged `retail`.
INSERT INTO retail
SELECT invoice_no, stock_code, description, quantity, invoice_date,
       cast(unit_price AS DECIMAL(12,3)) AS unit_price, customer_id, country
FROM incoming_batch
