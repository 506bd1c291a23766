-- What the reports read, rebuilt from `retail` inside every load's transaction, part 1:
-- the distinct lines and the stock codes. Between this file and derived_invoices.sql the
-- loader pairs corrections (lgs_reports.corrections) into the empty `correction_pairs`.
-- Statements run in order; each is plain SQL that PostgreSQL and DuckDB both accept.

DROP TABLE IF EXISTS derived_version;
DROP TABLE IF EXISTS product_months;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS invoices;
DROP TABLE IF EXISTS daily_quality;
DROP TABLE IF EXISTS corrections;
DROP TABLE IF EXISTS correction_pairs;
DROP TABLE IF EXISTS lines;
DROP TABLE IF EXISTS stock_codes;

-- lines: one row per distinct raw line (all eight columns equal = one line),
-- classified, with how many raw copies it had. Duplicate copies = copies - 1.
-- line_id only joins a line to its correction pair: it is unique, not ordered.
CREATE TABLE lines AS
SELECT
    row_number() OVER () AS line_id,
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    copies, line_class, amount,
    cast(NULL AS text) AS cancel_kind,      -- cancelled lines: fee, correction or product
    false AS reversed                       -- placed lines that a correction reversed
FROM (
    SELECT
        invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
        country,
        count(*) AS copies,
        CASE
            WHEN invoice_no LIKE 'C%' THEN 'cancelled'
            WHEN invoice_no LIKE 'A%' THEN 'adjustment'
            ELSE 'placed'
        END AS line_class,
        cast(quantity * unit_price AS numeric(18,3)) AS amount
    FROM retail
    GROUP BY invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
             country
) AS distinct_lines
-- stored in time order: a span's lines then sit together on disk (PostgreSQL reads a few
-- thousand pages for a month's lines instead of one page per line)
ORDER BY invoice_date;

-- stock_codes: every stock code seen, whether it is a product (5 digits and optional
-- letters after trimming spaces, e.g. 85123A) or a service, fee or adjustment code
-- (POST, M, AMAZONFEE, ...), and how many distinct lines carry it with what amount.
CREATE TABLE stock_codes AS
SELECT
    stock_code,
    coalesce(trim(stock_code) ~ '^[0-9]{5}[A-Za-z]*$', false) AS is_product,
    line_count,
    total_amount
FROM (
    SELECT stock_code, count(*) AS line_count, cast(sum(amount) AS numeric(18,3)) AS total_amount
    FROM lines
    GROUP BY stock_code
) AS codes;
-- Statistics as soon as a table that later statements join is built: without them
-- PostgreSQL plans the joins below for empty tables and sorts a million lines.
ANALYZE stock_codes;
ANALYZE lines;

-- correction_pairs: each cancelled product line that reverses a placed line (BRIEF_SPEC,
-- "What a cancellation is"), filled by the loader from sql/correction_candidates.sql.
CREATE TABLE correction_pairs (
    cancel_line  bigint NOT NULL,   -- lines.line_id of the cancellation
    placed_line  bigint NOT NULL    -- lines.line_id of the placed line it reverses
)
