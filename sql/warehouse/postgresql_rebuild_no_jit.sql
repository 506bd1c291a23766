-- PostgreSQL, the rebuild of the derived tables: compiling these one-off statements costs
-- more than it saves (60-100 ms each). For this transaction only.
SET LOCAL jit = off
