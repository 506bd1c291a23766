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
-- The best sellers are numbered in the order of their codes, and the pairs, the baskets and
-- the walk work on those numbers (a tie broken by number is broken by code): PostgreSQL
-- sorts, joins and groups small integers far faster than product codes.
-- :snapshot       timestamp  the snapshot (first instant after the window)
-- :window_start   timestamp  the snapshot minus the RFM window
-- :pool_size      int        how many best sellers are candidates
-- customer_id     int        a customer with an order in the window and a suggestion
-- stock_code      text       the suggested product
-- description     text       its most frequent description
-- paired_with     text       the product of the customer's it was most often bought with
-- support         int        orders of the window holding both
WITH RECURSIVE pool AS (
    -- the best sellers, numbered in the order of their codes
    SELECT stock_code, row_number() OVER (ORDER BY stock_code) AS pid
    FROM (
        SELECT stock_code
        FROM product_months
        WHERE month >= cast(date_trunc('month', cast(:window_start AS timestamp)) AS date)
          AND month < cast(cast(:snapshot AS timestamp) AS date)
        GROUP BY stock_code
        HAVING sum(net) > 0
        ORDER BY sum(net) DESC, stock_code
        LIMIT :pool_size
    ) AS best
),
pool_lines AS (
    -- each best seller once per order of the window, with the order's customer
    SELECT l.invoice_no, l.customer_id, p.pid
    FROM lines AS l
    JOIN pool AS p ON p.stock_code = l.stock_code
    JOIN invoices AS i ON i.invoice_no = l.invoice_no
    WHERE i.is_order
      AND l.line_class = 'placed' AND NOT l.reversed AND l.quantity > 0
      -- an order's time is its earliest line's: its lines start inside the window
      AND l.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date >= cast(:window_start AS timestamp)
      AND i.invoice_date < cast(:snapshot AS timestamp)
    GROUP BY l.invoice_no, l.customer_id, p.pid
),
pair_support AS (
    SELECT a.pid AS first_pid, b.pid AS second_pid, count(*) AS support
    FROM pool_lines AS a
    JOIN pool_lines AS b ON b.invoice_no = a.invoice_no AND b.pid > a.pid
    GROUP BY a.pid, b.pid
),
companions AS (
    -- each best seller's companions, strongest first (rank 1), ties by code
    SELECT bought, candidate, support,
           row_number() OVER (PARTITION BY bought ORDER BY support DESC, candidate) AS rank
    FROM (
        SELECT first_pid AS bought, second_pid AS candidate, support FROM pair_support
        UNION ALL
        SELECT second_pid, first_pid, support FROM pair_support
    ) AS both_ways
),
bought AS (
    SELECT customer_id, pid
    FROM pool_lines
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id, pid
),
baskets AS (
    -- what each customer bought, as ",7,42,93,"
    SELECT customer_id, ',' || string_agg(cast(pid AS text), ',') || ',' AS pids
    FROM bought
    GROUP BY customer_id
),
walk AS (
    -- down each bought product's companions until the first one the customer did not buy
    SELECT b.customer_id, b.pid AS bought, k.pids, c.rank, c.candidate, c.support,
           strpos(k.pids, ',' || cast(c.candidate AS text) || ',') > 0 AS owned
    FROM bought AS b
    JOIN baskets AS k ON k.customer_id = b.customer_id
    JOIN companions AS c ON c.bought = b.pid AND c.rank = 1
    UNION ALL
    SELECT w.customer_id, w.bought, w.pids, c.rank, c.candidate, c.support,
           strpos(w.pids, ',' || cast(c.candidate AS text) || ',') > 0
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
    suggested.stock_code,
    p.description,
    partner.stock_code AS paired_with,
    cast(r.support AS bigint) AS support
FROM ranked AS r
JOIN pool AS suggested ON suggested.pid = r.candidate
JOIN pool AS partner ON partner.pid = r.bought
JOIN products AS p ON p.stock_code = suggested.stock_code
WHERE r.rank = 1
ORDER BY r.customer_id
