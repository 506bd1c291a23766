-- Remove the raw lines a load brought (the generated sample, before real data goes in).
-- :load_id  int  the load whose lines go
DELETE FROM retail
WHERE load_id = :load_id
