-- PostgreSQL: a brief's transaction reads only (PostgreSQL refuses any write in it).
SET TRANSACTION READ ONLY
