-- The load that brought a file with this sha256 (the same file loaded again does nothing).
-- :sha256  text  the file's sha256 (the generated sample's fingerprint for the sample)
-- load_id  int   the first load of that file; NULL when it was never loaded
SELECT min(load_id) AS load_id
FROM load_registry
WHERE sha256 = :sha256
