-- Lines of this load that an earlier load already brought: all eight columns equal, NULL
-- equal to NULL (an overlapping extract; the derived tables count such lines once).
-- invoice_no is never NULL (validation rejects it): a plain equality the planners can hash on.
-- :load_id  int  the load just written
-- lines     int  its lines already in the warehouse before it
SELECT count(*) AS lines
FROM retail AS n
WHERE n.load_id = :load_id
  AND EXISTS (
      SELECT 1
      FROM retail AS o
      WHERE o.load_id < :load_id
        AND o.invoice_no = n.invoice_no
        AND o.stock_code IS NOT DISTINCT FROM n.stock_code
        AND o.description IS NOT DISTINCT FROM n.description
        AND o.quantity IS NOT DISTINCT FROM n.quantity
        AND o.invoice_date IS NOT DISTINCT FROM n.invoice_date
        AND o.unit_price IS NOT DISTINCT FROM n.unit_price
        AND o.customer_id IS NOT DISTINCT FROM n.customer_id
        AND o.country IS NOT DISTINCT FROM n.country
  )
