-- Headline totals of one span of days (a period, or its comparison cut like-for-like).
-- :start             timestamp  first instant of the span
-- :end               timestamp  first instant after the span
-- gross              money      sum of placed line amounts
-- cancellations      money      sum of cancelled line amounts (negative)
-- net                money      gross + cancellations
-- placed_orders      int        distinct placed invoices
-- cancelled_orders   int        distinct cancelled invoices
-- active_customers   int        customers with a placed invoice in the span
-- new_customers      int        active customers whose first placed invoice ever is in the span
-- guest_gross        money      gross sales of placed invoices without a customer id
-- new_customer_net   money      net sales of customers whose first placed invoice is in the span
WITH per_customer AS (
    -- one row per customer of the span (guests together as one row with a null id)
    SELECT
        customer_id,
        min(first_purchase) AS first_purchase,
        sum(amount) FILTER (WHERE line_class = 'placed') AS gross,
        sum(amount) FILTER (WHERE line_class = 'cancelled') AS cancellations,
        sum(amount) AS net,
        count(*) FILTER (WHERE line_class = 'placed') AS placed_orders,
        count(*) FILTER (WHERE line_class = 'cancelled') AS cancelled_orders
    FROM invoices
    WHERE invoice_date >= cast(:start AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
      AND line_class IN ('placed', 'cancelled')
    GROUP BY customer_id
)
SELECT
    cast(coalesce(sum(gross), 0) AS numeric(18,3)) AS gross,
    cast(coalesce(sum(cancellations), 0) AS numeric(18,3)) AS cancellations,
    cast(coalesce(sum(net), 0) AS numeric(18,3)) AS net,
    cast(coalesce(sum(placed_orders), 0) AS bigint) AS placed_orders,
    cast(coalesce(sum(cancelled_orders), 0) AS bigint) AS cancelled_orders,
    count(*) FILTER (WHERE customer_id IS NOT NULL AND placed_orders > 0) AS active_customers,
    count(*) FILTER (
        WHERE customer_id IS NOT NULL AND placed_orders > 0
          AND first_purchase >= cast(:start AS timestamp)
    ) AS new_customers,
    cast(coalesce(sum(gross) FILTER (WHERE customer_id IS NULL), 0) AS numeric(18,3))
        AS guest_gross,
    cast(coalesce(sum(net) FILTER (WHERE first_purchase >= cast(:start AS timestamp)), 0)
        AS numeric(18,3)) AS new_customer_net
FROM per_customer
