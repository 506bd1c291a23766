-- Each customer's three biggest products in the RFM window, by net sales: the products of
-- their orders and cancellations of the window (placed + cancelled product lines; fees,
-- postage and manual codes are not products). Only products with positive net sales rank.
-- :snapshot       timestamp  the snapshot (first instant after the window)
-- :window_start   timestamp  the snapshot minus the RFM window
-- customer_id     int        the customer
-- rank            int        1 = the biggest; ties by product code
-- stock_code      text       the product
-- description     text       its most frequent description
-- net             money      the customer's net sales of it in the window
WITH per_product AS (
    SELECT l.customer_id, l.stock_code, sum(l.amount) AS net
    FROM lines AS l
    JOIN invoices AS i ON i.invoice_no = l.invoice_no
    WHERE l.customer_id IS NOT NULL
      AND l.line_class IN ('placed', 'cancelled')
      AND l.stock_code IN (SELECT stock_code FROM products)
      -- an invoice's time is its earliest line's: its lines start inside the window
      AND l.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date < cast(:snapshot AS timestamp)
    GROUP BY l.customer_id, l.stock_code
    HAVING sum(l.amount) > 0
),
ranked AS (
    SELECT customer_id, stock_code, net,
           row_number() OVER (PARTITION BY customer_id ORDER BY net DESC, stock_code) AS rank
    FROM per_product
)
SELECT r.customer_id, r.rank, r.stock_code, p.description, cast(r.net AS numeric(18,3)) AS net
FROM ranked AS r
JOIN products AS p ON p.stock_code = r.stock_code
WHERE r.rank <= 3
ORDER BY r.customer_id, r.rank
