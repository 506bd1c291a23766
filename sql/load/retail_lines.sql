-- How many raw lines the warehouse holds (0: nothing loaded yet).
-- lines  int  rows of retail, duplicates included
SELECT count(*) AS lines
FROM retail
