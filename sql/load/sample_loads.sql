-- The loads of the generated sample, which real data replaces.
-- load_id  int  a load of the sample
SELECT load_id
FROM load_registry
WHERE is_sample
