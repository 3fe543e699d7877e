-- SQLite caches the report's oversight rows of closed days (0031 there); PostgreSQL reads them
-- straight from the tables. Kept so both backends number their migrations alike.
SELECT 1;
