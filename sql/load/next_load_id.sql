-- The number of the load about to be written: one more than the last (1 for the first).
-- load_id  int  the new load's number
SELECT coalesce(max(load_id), 0) + 1 AS load_id
FROM load_registry
