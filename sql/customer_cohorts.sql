-- Acquisition cohorts: customers by the month of their first order, and how many of each
-- cohort ordered in each month since (month 0 is the cohort's own month: all of it).
-- :cohorts_from     timestamp  first instant of the first cohort's month
-- :end              timestamp  first instant after the last month counted
-- cohort            date       first day of the month of the customers' first order
-- month             date       first day of a month in which they ordered
-- customers         int        how many of the cohort ordered that month
SELECT cast(date_trunc('month', first_purchase) AS date) AS cohort, month, count(*) AS customers
FROM (
    SELECT DISTINCT customer_id, month, first_purchase
    FROM invoices
    WHERE is_order
      AND customer_id IS NOT NULL
      AND first_purchase >= cast(:cohorts_from AS timestamp)
      AND invoice_date < cast(:end AS timestamp)
) AS customer_months
GROUP BY 1, 2
ORDER BY 1, 2
