-- The short number people use for a case (HW-2026-00042): one counter per year, which only
-- grows, so a number is never given twice. Existing cases are numbered in the order they were
-- opened (created_at, then id), per the year (UTC) they were opened.
CREATE TABLE case_number_counters (
    year INTEGER NOT NULL PRIMARY KEY,
    last BIGINT NOT NULL CHECK (last >= 0)
);

ALTER TABLE cases ADD COLUMN number TEXT;

WITH numbered AS (
    SELECT id,
           EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC')::INTEGER AS year,
           ROW_NUMBER() OVER (
               PARTITION BY EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC') ORDER BY created_at, id
           ) AS seq
    FROM cases
)
UPDATE cases
SET number = 'HW-' || lpad(numbered.year::TEXT, 4, '0') || '-' || lpad(numbered.seq::TEXT, GREATEST(5, length(numbered.seq::TEXT)), '0')
FROM numbered WHERE numbered.id = cases.id;

INSERT INTO case_number_counters (year, last)
SELECT EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC')::INTEGER, COUNT(*) FROM cases
GROUP BY EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC');

CREATE UNIQUE INDEX cases_number ON cases (number);
