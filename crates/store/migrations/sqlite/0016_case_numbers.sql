-- The short number people use for a case (HW-2026-00042): one counter per year, which only
-- grows, so a number is never given twice. Existing cases are numbered in the order they were
-- opened (created_at, then id), per the year (UTC) they were opened.
CREATE TABLE case_number_counters (
    year INTEGER NOT NULL PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 0)
) STRICT;

ALTER TABLE cases ADD COLUMN number TEXT;

WITH numbered AS (
    SELECT id,
           substr(created_at, 1, 4) AS year,
           ROW_NUMBER() OVER (PARTITION BY substr(created_at, 1, 4) ORDER BY created_at, id) AS seq
    FROM cases
)
UPDATE cases
SET number = (SELECT 'HW-' || numbered.year || '-' || printf('%05d', numbered.seq)
              FROM numbered WHERE numbered.id = cases.id);

INSERT INTO case_number_counters (year, last)
SELECT CAST(substr(created_at, 1, 4) AS INTEGER), COUNT(*) FROM cases GROUP BY substr(created_at, 1, 4);

CREATE UNIQUE INDEX cases_number ON cases (number);
