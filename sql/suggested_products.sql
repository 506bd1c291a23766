-- Each customer's suggested next product (BRIEF_SPEC, "Suggested next product"): of the
-- window's best sellers the customer did not buy in the window, the one bought together
-- most often with one of the best sellers they did buy.
--   best sellers: the :pool_size products with the most net sales in the calendar months
--     the window touches (product_months; product codes only, so never a fee or postage);
--   bought: on one of the customer's orders of the window (a placed product line with a
--     positive quantity that no correction reversed; cancellations never count);
--   support of a pair: the number of the window's orders (every customer's, guests' too)
--     that hold both products;
--   score of a candidate: its largest support with one product the customer bought (so a
--     score is a count of orders: "on 412 orders with your 22423");
--   suggestion: the highest score, ties by the candidate's code. The action lists drop a
--     suggestion below [report] suggestion_min_support (the same as leaving out every pair
--     below it here: the best score either reaches it or is not a suggestion).
-- Only pairs of best sellers are counted, so the work is bounded by how many best sellers an
-- order holds, not by its length: a 1,000-line order would add half a million pairs. Each
-- customer then walks down, for each best seller they bought, its companions from the
-- strongest until the first they did not buy (usually the first): the best of those is the
-- suggestion, without scoring every candidate against every product of every customer.
-- :snapshot       timestamp  the snapshot (first instant after the window)
-- :window_start   timestamp  the snapshot minus the RFM window
-- :pool_size      int        how many best sellers are candidates
-- customer_id     int        a customer with an order in the window and a suggestion
-- stock_code      text       the suggested product
-- description     text       its most frequent description
-- paired_with     text       the product of the customer's it was most often bought with
-- support         int        orders of the window holding both
WITH RECURSIVE pool AS (
    SELECT stock_code
    FROM product_months
    WHERE month >= cast(date_trunc('month', cast(:window_start AS timestamp)) AS date)
      AND month < cast(cast(:snapshot AS timestamp) AS date)
    GROUP BY stock_code
    HAVING sum(net) > 0
    ORDER BY sum(net) DESC, stock_code
    LIMIT :pool_size
),
pool_lines AS (
    -- each best seller once per order of the window, with the order's customer
    SELECT DISTINCT l.invoice_no, l.customer_id, l.stock_code
    FROM lines AS l
    JOIN invoices AS i ON i.invoice_no = l.invoice_no
    WHERE i.is_order
      AND l.stock_code IN (SELECT stock_code FROM pool)
      AND l.line_class = 'placed' AND NOT l.reversed AND l.quantity > 0
      -- an order's time is its earliest line's: its lines start inside the window
      AND l.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date < cast(:snapshot AS timestamp)
),
pair_support AS (
    SELECT a.stock_code AS first_code, b.stock_code AS second_code, count(*) AS support
    FROM pool_lines AS a
    JOIN pool_lines AS b ON b.invoice_no = a.invoice_no AND b.stock_code > a.stock_code
    GROUP BY a.stock_code, b.stock_code
),
companions AS (
    -- each best seller's companions, strongest first (rank 1), ties by code
    SELECT bought, candidate, support,
           row_number() OVER (PARTITION BY bought ORDER BY support DESC, candidate) AS rank
    FROM (
        SELECT first_code AS bought, second_code AS candidate, support FROM pair_support
        UNION ALL
        SELECT second_code, first_code, support FROM pair_support
    ) AS both_ways
),
bought AS (
    SELECT customer_id, stock_code
    FROM pool_lines
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id, stock_code
),
baskets AS (
    -- what each customer bought, as ",22423,85123A," (product codes hold no comma)
    SELECT customer_id, ',' || string_agg(stock_code, ',') || ',' AS codes
    FROM bought
    GROUP BY customer_id
),
walk AS (
    -- down each bought product's companions until the first one the customer did not buy
    SELECT b.customer_id, b.stock_code AS bought, k.codes, c.rank, c.candidate, c.support,
           strpos(k.codes, ',' || c.candidate || ',') > 0 AS owned
    FROM bought AS b
    JOIN baskets AS k ON k.customer_id = b.customer_id
    JOIN companions AS c ON c.bought = b.stock_code AND c.rank = 1
    UNION ALL
    SELECT w.customer_id, w.bought, w.codes, c.rank, c.candidate, c.support,
           strpos(w.codes, ',' || c.candidate || ',') > 0
    FROM walk AS w
    JOIN companions AS c ON c.bought = w.bought AND c.rank = w.rank + 1
    WHERE w.owned
),
ranked AS (
    SELECT customer_id, candidate, bought, support,
           row_number() OVER (
               PARTITION BY customer_id ORDER BY support DESC, candidate, bought
           ) AS rank
    FROM walk
    WHERE NOT owned
)
SELECT
    r.customer_id,
    r.candidate AS stock_code,
    p.description,
    r.bought AS paired_with,
    cast(r.support AS bigint) AS support
FROM ranked AS r
JOIN products AS p ON p.stock_code = r.candidate
WHERE r.rank = 1
ORDER BY r.customer_id
