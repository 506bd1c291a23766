-- Days that had exact duplicate lines, to show where duplicates cluster.
-- :start              timestamp  first instant of the span
-- :end                timestamp  first instant after the span
-- day                 date       the day
-- duplicate_copies    int        extra copies set aside that day
-- duplicate_value     money      their line amount
-- raw_lines           int        every line of the day as received
SELECT day, duplicate_copies, cast(duplicate_value AS numeric(18,3)) AS duplicate_value,
       raw_lines
FROM daily_quality
WHERE duplicate_copies > 0
  AND day >= cast(cast(:start AS timestamp) AS date)
  AND cast(day AS timestamp) < cast(:end AS timestamp)  -- a day the span ends inside counts
ORDER BY day
