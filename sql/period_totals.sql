-- Headline totals of one span (a period, or its comparison cut to the same instants).
-- :start               timestamp  first instant of the span
-- :end                 timestamp  first instant after the span
-- gross                money      sum of placed line amounts
-- cancellations        money      sum of cancelled line amounts of every kind (negative)
-- net                  money      gross + cancellations
-- order_gross          money      amounts of the orders (positive placed invoices, not wholly corrected)
-- placed_orders        int        orders
-- product_cancelled    money      product-cancellation line amounts (negative)
-- product_lines        int        product-cancellation lines
-- cancelled_orders     int        cancellation invoices with a product-cancellation line
-- fee_value            money      fee and adjustment cancellation lines (negative)
-- fee_lines            int        their number
-- correction_value     money      correction lines (negative)
-- correction_lines     int        their number
-- zero_invoices        int        placed invoices whose amount is zero (not orders)
-- corrected_invoices   int        positive placed invoices that corrections wholly reversed
-- largest_cancelled    money      the largest product cancellation of one invoice (negative)
-- active_customers     int        customers with an order in the span
-- new_customers        int        active customers whose first order ever is in the span
-- guest_gross          money      gross sales of placed invoices without a customer id
WITH per_customer AS (
    -- one row per customer of the span (guests together as one row with a null id)
    SELECT
        customer_id,
        min(first_purchase) AS first_purchase,
        sum(amount) FILTER (WHERE line_class = 'placed') AS gross,
        sum(amount) FILTER (WHERE line_class = 'cancelled') AS cancellations,
        sum(amount) AS net,
        sum(amount) FILTER (WHERE is_order) AS order_gross,
        count(*) FILTER (WHERE is_order) AS placed_orders,
        sum(product_value) AS product_cancelled,
        sum(product_lines) AS product_lines,
        count(*) FILTER (WHERE product_lines > 0) AS cancelled_orders,
        sum(fee_value) AS fee_value,
        sum(fee_lines) AS fee_lines,
        sum(correction_value) AS correction_value,
        sum(correction_lines) AS correction_lines,
        count(*) FILTER (WHERE line_class = 'placed' AND amount = 0) AS zero_invoices,
        count(*) FILTER (WHERE line_class = 'placed' AND amount > 0 AND NOT is_order)
            AS corrected_invoices,
        min(product_value) AS largest_cancelled
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
    cast(coalesce(sum(order_gross), 0) AS numeric(18,3)) AS order_gross,
    cast(coalesce(sum(placed_orders), 0) AS bigint) AS placed_orders,
    cast(coalesce(sum(product_cancelled), 0) AS numeric(18,3)) AS product_cancelled,
    cast(coalesce(sum(product_lines), 0) AS bigint) AS product_lines,
    cast(coalesce(sum(cancelled_orders), 0) AS bigint) AS cancelled_orders,
    cast(coalesce(sum(fee_value), 0) AS numeric(18,3)) AS fee_value,
    cast(coalesce(sum(fee_lines), 0) AS bigint) AS fee_lines,
    cast(coalesce(sum(correction_value), 0) AS numeric(18,3)) AS correction_value,
    cast(coalesce(sum(correction_lines), 0) AS bigint) AS correction_lines,
    cast(coalesce(sum(zero_invoices), 0) AS bigint) AS zero_invoices,
    cast(coalesce(sum(corrected_invoices), 0) AS bigint) AS corrected_invoices,
    cast(coalesce(min(largest_cancelled), 0) AS numeric(18,3)) AS largest_cancelled,
    count(*) FILTER (WHERE customer_id IS NOT NULL AND placed_orders > 0) AS active_customers,
    count(*) FILTER (
        WHERE customer_id IS NOT NULL AND placed_orders > 0
          AND first_purchase >= cast(:start AS timestamp)
    ) AS new_customers,
    cast(coalesce(sum(gross) FILTER (WHERE customer_id IS NULL), 0) AS numeric(18,3))
        AS guest_gross
FROM per_customer
