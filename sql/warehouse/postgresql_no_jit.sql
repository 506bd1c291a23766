-- PostgreSQL, a load's rebuild of the derived tables and a brief's queries: each statement
-- runs once over at most a few million rows, and compiling it costs more than it saves
-- (60-100 ms for a rebuild statement; 0.3 s of the 1.0 s suggested_products.sql takes on
-- the real extract). For this transaction only.
SET LOCAL jit = off
