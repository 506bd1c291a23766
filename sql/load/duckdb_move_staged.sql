-- DuckDB: move the staged rows into the warehouse's retail in one INSERT, in the load's
-- transaction, each marked with the load that brought it.
-- :load_id  int  the load being written
INSERT INTO retail (
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
    country, load_id
)
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
       country, cast(:load_id AS integer)
FROM staged.retail
