-- Service and adjustment stock codes (not 5 digits + letters) across the whole warehouse.
-- stock_code    text   the code (POST, DOT, M, BANK CHARGES, ...)
-- lines         int    distinct lines with the code
-- value         money  their line amount
SELECT coalesce(stock_code, '(none)') AS stock_code, line_count AS lines,
       cast(total_amount AS numeric(18,3)) AS value
FROM stock_codes
WHERE NOT is_product
ORDER BY 2 DESC, 1
