-- Fill the empty correction_pairs with the pairs lgs_reports.corrections picked from
-- correction_candidates.sql, between derived_lines.sql and derived_invoices.sql.
-- :cancels  int[]  lines.line_id of each cancelled line that corrects a keying error
-- :placed   int[]  lines.line_id of the placed line it reverses, in the same order
INSERT INTO correction_pairs (cancel_line, placed_line)
SELECT unnest(cast(:cancels AS bigint[])), unnest(cast(:placed AS bigint[]))
