-- DuckDB, in the load's scratch database: the table `retail` that the checked rows are
-- staged in, empty, with the column types the rows have (prices as DECIMAL(12,3)).
-- `incoming_batch` is the DataFrame of the first batch, registered on the connection.
CREATE TABLE retail AS
SELECT invoice_no, stock_code, description, quantity, invoice_date,
       cast(unit_price AS DECIMAL(12,3)) AS unit_price, customer_id, country
FROM incoming_batch
LIMIT 0
