-- What the reports read, rebuilt from `retail` inside every load's transaction.
-- Statements run in order; each is plain SQL that PostgreSQL and DuckDB both accept.

-- lines: one row per distinct raw line (all eight columns equal = one line),
-- classified, with how many raw copies it had. Duplicate copies = copies - 1.
DROP TABLE IF EXISTS derived_version;
DROP TABLE IF EXISTS invoices;
DROP TABLE IF EXISTS daily_quality;
DROP TABLE IF EXISTS lines;
DROP TABLE IF EXISTS stock_codes;

CREATE TABLE lines AS
SELECT
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    count(*) AS copies,
    CASE
        WHEN invoice_no LIKE 'C%' THEN 'cancelled'
        WHEN invoice_no LIKE 'A%' THEN 'adjustment'
        ELSE 'placed'
    END AS line_class,
    cast(quantity * unit_price AS numeric(18,3)) AS amount
FROM retail
GROUP BY invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country;

-- stock_codes: every stock code seen, whether it is a product (5 digits and an
-- optional letter suffix, e.g. 85123A) or a service or adjustment code (POST, M, ...),
-- and how many distinct lines carry it with what amount.
CREATE TABLE stock_codes AS
SELECT
    stock_code,
    coalesce(stock_code ~ '^[0-9]{5}[A-Za-z]*$', false) AS is_product,
    line_count,
    total_amount
FROM (
    SELECT stock_code, count(*) AS line_count, cast(sum(amount) AS numeric(18,3)) AS total_amount
    FROM lines
    GROUP BY stock_code
) AS codes;
-- Statistics as soon as a table that later statements join is built: without them
-- PostgreSQL plans daily_quality's join for an empty table and sorts a million lines.
ANALYZE stock_codes;

-- invoices: one row per invoice of the de-duplicated lines; an invoice has one
-- customer and one country in every extract seen; its date is its first line's.
-- first_purchase is when the invoice's customer first placed an order (null for guests
-- and for customers who never did): it makes "new customer" a comparison, not a scan.
CREATE TABLE invoices AS
SELECT
    invoice_no, line_class, customer_id, country, invoice_date, month, amount, line_count,
    CASE WHEN customer_id IS NOT NULL THEN
        min(CASE WHEN line_class = 'placed' THEN invoice_date END)
            OVER (PARTITION BY customer_id)
    END AS first_purchase
FROM (
    SELECT
        invoice_no,
        min(line_class) AS line_class,
        min(customer_id) AS customer_id,
        min(country) AS country,
        min(invoice_date) AS invoice_date,
        cast(date_trunc('month', min(invoice_date)) AS date) AS month,
        cast(sum(amount) AS numeric(18,3)) AS amount,
        count(*) AS line_count
    FROM lines
    GROUP BY invoice_no
) AS per_invoice;

-- daily_quality: per calendar day, the counts the data-quality section reports.
CREATE TABLE daily_quality AS
SELECT
    cast(date_trunc('day', invoice_date) AS date) AS day,
    cast(sum(copies) AS bigint) AS raw_lines,
    count(*) AS distinct_lines,
    cast(sum(copies - 1) AS bigint) AS duplicate_copies,
    cast(sum((copies - 1) * amount) AS numeric(18,3)) AS duplicate_value,
    count(*) FILTER (WHERE customer_id IS NULL) AS guest_lines,
    count(*) FILTER (WHERE line_class = 'placed') AS placed_lines,
    count(*) FILTER (WHERE line_class = 'cancelled') AS cancelled_lines,
    count(*) FILTER (WHERE line_class = 'adjustment') AS adjustment_lines,
    cast(coalesce(sum(amount) FILTER (WHERE line_class = 'adjustment'), 0) AS numeric(18,3))
        AS adjustment_value,
    count(*) FILTER (WHERE unit_price = 0) AS zero_price_lines,
    count(*) FILTER (WHERE NOT coalesce(is_product, false)) AS non_product_lines,
    cast(coalesce(sum(amount) FILTER (
        WHERE NOT coalesce(is_product, false) AND line_class <> 'adjustment'), 0)
        AS numeric(18,3)) AS non_product_value,
    count(*) FILTER (WHERE line_class = 'placed' AND quantity < 0) AS negative_placed_lines
FROM lines LEFT JOIN stock_codes USING (stock_code)
GROUP BY 1;

CREATE INDEX invoices_date ON invoices (invoice_date);
CREATE INDEX invoices_customer ON invoices (customer_id);
-- what the reports read, so that the first brief after a load is planned for real sizes
ANALYZE invoices;
ANALYZE daily_quality;

-- Which version of this file built the tables: raise it with every change to what they
-- hold, and a warehouse built by an earlier version is rebuilt before its next brief.
CREATE TABLE derived_version AS SELECT 2 AS version;
