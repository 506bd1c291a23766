-- Remove a load from the registry (after its lines: see delete_load_lines.sql).
-- :load_id  int  the load to forget
DELETE FROM load_registry
WHERE load_id = :load_id
