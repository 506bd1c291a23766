-- What the reports read, part 2, after derived_lines.sql and the corrections pairing:
-- each cancelled line's kind, one row per invoice, and the per-day quality counts.
-- Statements run in order; each is plain SQL that PostgreSQL and DuckDB both accept.

-- Every cancelled line falls in exactly one kind (BRIEF_SPEC, "What a cancellation is"):
-- a fee or adjustment (not a product code), a correction (paired), or a product cancellation.
UPDATE lines SET cancel_kind = 'product' WHERE line_class = 'cancelled';
UPDATE lines SET cancel_kind = 'fee'
WHERE line_class = 'cancelled'
  AND (stock_code IS NULL
       OR stock_code IN (SELECT stock_code FROM stock_codes WHERE NOT is_product));
UPDATE lines SET cancel_kind = 'correction'
WHERE line_id IN (SELECT cancel_line FROM correction_pairs);
UPDATE lines SET reversed = true
WHERE line_id IN (SELECT placed_line FROM correction_pairs);

-- corrections: each correction with the placed line it reverses, for the brief's lists.
CREATE TABLE corrections AS
SELECT
    c.invoice_no, c.invoice_date, c.stock_code, c.description, c.quantity, c.unit_price,
    c.amount, c.customer_id, c.country,
    p.invoice_no AS placed_invoice, p.invoice_date AS placed_date
FROM correction_pairs AS pair
JOIN lines AS c ON c.line_id = pair.cancel_line
JOIN lines AS p ON p.line_id = pair.placed_line;
DROP TABLE correction_pairs;

-- invoices: one row per invoice of the de-duplicated lines; an invoice has one
-- customer and one country in every extract seen; its time is its earliest line's.
-- An order is a placed invoice with a positive amount that corrections did not wholly
-- reverse; first_purchase is the time of the customer's first order (null for guests and
-- for customers who never placed one): it makes "new customer" a comparison, not a scan.
CREATE TABLE invoices AS
SELECT
    invoice_no, line_class, customer_id, country, invoice_date, month, amount, line_count,
    is_order, reversed_lines, product_value, product_lines, fee_value, fee_lines,
    correction_value, correction_lines,
    CASE WHEN customer_id IS NOT NULL THEN
        min(CASE WHEN is_order THEN invoice_date END) OVER (PARTITION BY customer_id)
    END AS first_purchase
FROM (
    SELECT
        *,
        line_class = 'placed' AND amount > 0 AND reversed_lines < line_count AS is_order
    FROM (
        SELECT
            invoice_no,
            min(line_class) AS line_class,
            min(customer_id) AS customer_id,
            min(country) AS country,
            min(invoice_date) AS invoice_date,
            cast(date_trunc('month', min(invoice_date)) AS date) AS month,
            cast(sum(amount) AS numeric(18,3)) AS amount,
            count(*) AS line_count,
            count(*) FILTER (WHERE reversed) AS reversed_lines,
            cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'product'), 0)
                AS numeric(18,3)) AS product_value,
            count(*) FILTER (WHERE cancel_kind = 'product') AS product_lines,
            cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'fee'), 0)
                AS numeric(18,3)) AS fee_value,
            count(*) FILTER (WHERE cancel_kind = 'fee') AS fee_lines,
            cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'correction'), 0)
                AS numeric(18,3)) AS correction_value,
            count(*) FILTER (WHERE cancel_kind = 'correction') AS correction_lines
        FROM lines
        GROUP BY invoice_no
    ) AS per_invoice
) AS classified;

-- daily_quality: per calendar day, the counts the data-quality section reports: lines by
-- the day of the line, invoices by the day of the invoice (its earliest line's).
CREATE TABLE daily_quality AS
SELECT
    d.*,
    coalesce(i.cancelled_orders, 0) AS cancelled_orders,
    coalesce(i.zero_invoices, 0) AS zero_invoices,
    coalesce(i.corrected_invoices, 0) AS corrected_invoices
FROM (
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
        cast(coalesce(sum(amount) FILTER (WHERE line_class = 'adjustment'), 0)
            AS numeric(18,3)) AS adjustment_value,
        count(*) FILTER (WHERE unit_price = 0) AS zero_price_lines,
        count(*) FILTER (WHERE NOT coalesce(is_product, false)) AS non_product_lines,
        cast(coalesce(sum(amount) FILTER (
            WHERE NOT coalesce(is_product, false) AND line_class <> 'adjustment'), 0)
            AS numeric(18,3)) AS non_product_value,
        count(*) FILTER (WHERE line_class = 'placed' AND quantity < 0) AS negative_placed_lines,
        count(*) FILTER (WHERE reversed) AS reversed_lines,
        count(*) FILTER (WHERE cancel_kind = 'product') AS product_lines,
        cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'product'), 0) AS numeric(18,3))
            AS product_cancelled,
        count(*) FILTER (WHERE cancel_kind = 'fee') AS fee_lines,
        cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'fee'), 0) AS numeric(18,3))
            AS fee_value,
        count(*) FILTER (WHERE cancel_kind = 'correction') AS correction_lines,
        cast(coalesce(sum(amount) FILTER (WHERE cancel_kind = 'correction'), 0)
            AS numeric(18,3)) AS correction_value
    FROM lines LEFT JOIN stock_codes USING (stock_code)
    GROUP BY 1
) AS d
LEFT JOIN (
    SELECT
        cast(date_trunc('day', invoice_date) AS date) AS day,
        count(*) FILTER (WHERE product_lines > 0) AS cancelled_orders,
        count(*) FILTER (WHERE line_class = 'placed' AND amount = 0) AS zero_invoices,
        count(*) FILTER (WHERE line_class = 'placed' AND amount > 0 AND NOT is_order)
            AS corrected_invoices
    FROM invoices
    GROUP BY 1
) AS i ON i.day = d.day;

-- products: every product code (5 digits and optional letters), named by the description
-- most of its lines carry (ties: the first in order), first sold when its first placed line
-- with a positive quantity and price that no correction reversed was placed (a stock entry
-- at price 0, "found" or "damaged", is not a sale).
CREATE TABLE products AS
SELECT
    s.stock_code,
    d.description,
    f.first_sold
FROM stock_codes AS s
LEFT JOIN (
    SELECT DISTINCT ON (stock_code) stock_code, description
    FROM (
        SELECT stock_code, description, count(*) AS n
        FROM lines
        WHERE description IS NOT NULL
        GROUP BY stock_code, description
    ) AS named
    ORDER BY stock_code, n DESC, description
) AS d ON d.stock_code = s.stock_code
LEFT JOIN (
    SELECT stock_code, min(invoice_date) AS first_sold
    FROM lines
    WHERE line_class = 'placed' AND quantity > 0 AND unit_price > 0 AND NOT reversed
    GROUP BY stock_code
) AS f ON f.stock_code = s.stock_code
WHERE s.is_product;

-- product_months: per product and calendar month, what the products section adds up over
-- whole months (the days of a span's partial months come from lines, by invoice_date).
-- sold_value and sold_units: placed lines with a price that no correction reversed (a
-- reversed keying error was never delivered; a stock entry at price 0 was never sold).
CREATE TABLE product_months AS
SELECT
    l.stock_code,
    cast(date_trunc('month', l.invoice_date) AS date) AS month,
    cast(sum(l.amount) AS numeric(18,3)) AS net,
    cast(coalesce(sum(l.amount) FILTER (WHERE l.line_class = 'placed' AND l.unit_price > 0
        AND NOT l.reversed), 0) AS numeric(18,3)) AS sold_value,
    cast(coalesce(sum(l.quantity) FILTER (WHERE l.line_class = 'placed' AND l.unit_price > 0
        AND NOT l.reversed), 0) AS bigint) AS sold_units,
    cast(coalesce(sum(l.amount) FILTER (WHERE l.cancel_kind = 'product'), 0) AS numeric(18,3))
        AS product_cancelled,
    count(*) FILTER (WHERE l.cancel_kind = 'product') AS product_lines
FROM lines AS l
JOIN products AS p ON p.stock_code = l.stock_code
WHERE l.line_class IN ('placed', 'cancelled')
GROUP BY 1, 2;

CREATE INDEX invoices_date ON invoices (invoice_date);
CREATE INDEX lines_date ON lines (invoice_date);
CREATE INDEX invoices_customer ON invoices (customer_id);
-- what the reports read, so that the first brief after a load is planned for real sizes
ANALYZE invoices;
ANALYZE daily_quality;
ANALYZE products;
ANALYZE product_months;
ANALYZE lines;

-- Which version of these files built the tables: raise it with every change to what they
-- hold, and a warehouse built by an earlier version is rebuilt before its next brief.
-- 3: cancellation kinds and corrections, orders (is_order), first order (BRIEF_SPEC v2);
--    daily_quality counts the kinds and the invoices that are not orders.
-- 4: products and product_months; lines indexed by invoice date.
CREATE TABLE derived_version AS SELECT 4 AS version;
