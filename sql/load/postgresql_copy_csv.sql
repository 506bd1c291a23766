-- PostgreSQL: stream checked rows as CSV (an unquoted empty field is NULL) into retail;
-- load_id comes from its default.
COPY retail (
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
    country
) FROM STDIN WITH (FORMAT csv)
