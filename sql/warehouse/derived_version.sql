-- The version of the derived tables the warehouse holds (an older program's need rebuilding).
-- version  int  what derived_invoices.sql's last statement recorded
SELECT max(version) AS version
FROM derived_version
