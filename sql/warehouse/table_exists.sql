-- Whether a table exists in the current schema.
-- :name   text  the table's name
-- tables  int   1 if it exists, else 0
SELECT count(*) AS tables
FROM information_schema.tables
WHERE table_name = :name AND table_schema = current_schema()
