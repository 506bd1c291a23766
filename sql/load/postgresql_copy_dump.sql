-- PostgreSQL: stream lines in COPY's text format (a pg_dump's own data, fields in the
-- table's column order) into retail; load_id comes from its default.
COPY retail (
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
    country
) FROM STDIN
