-- Recency, frequency and monetary value of each customer with an order in the RFM window
-- before a snapshot. The quintile scores (ties share a score) come from these rows in
-- lgs_reports.analyses.segments.score.
-- :snapshot        timestamp  the snapshot date (first instant after the data considered)
-- :window_start    timestamp  the snapshot minus the RFM window (365 days by default)
-- customer_id      int        the customer
-- country          text       country of the customer's latest order in the window
-- first_purchase   date       date of the customer's first order ever
-- last_purchase    date       date of the latest order
-- recency          int        days from last_purchase to the snapshot date
-- frequency        int        orders in the window
-- monetary         money      net sales in the window (placed + cancelled)
WITH per_customer AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE is_order) AS frequency,
        cast(sum(amount) AS numeric(18,3)) AS monetary,
        min(first_purchase) AS first_purchase
    FROM invoices
    WHERE customer_id IS NOT NULL
      AND line_class IN ('placed', 'cancelled')
      AND invoice_date >= cast(:window_start AS timestamp)
      AND invoice_date < cast(:snapshot AS timestamp)
    GROUP BY customer_id
),
latest AS (
    -- each customer's latest order; ties on the date go to the higher invoice number
    SELECT DISTINCT ON (customer_id) customer_id, country, invoice_date
    FROM invoices
    WHERE customer_id IS NOT NULL
      AND is_order
      AND invoice_date >= cast(:window_start AS timestamp)
      AND invoice_date < cast(:snapshot AS timestamp)
    ORDER BY customer_id, invoice_date DESC, invoice_no DESC
)
SELECT
    p.customer_id,
    l.country,
    cast(p.first_purchase AS date) AS first_purchase,
    cast(l.invoice_date AS date) AS last_purchase,
    cast(:snapshot AS date) - cast(l.invoice_date AS date) AS recency,
    p.frequency,
    p.monetary
FROM per_customer AS p
JOIN latest AS l ON l.customer_id = p.customer_id
ORDER BY p.customer_id
