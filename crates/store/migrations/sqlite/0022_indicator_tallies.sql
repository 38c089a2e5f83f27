-- The mission dashboard under 100 ms at 100,000 records (issue 16): running tallies of what the
-- dashboard counts, kept by triggers as cases, spells and records are written, one row per cell
-- of a month. A read sums a few thousand cells instead of joining every case to its records.
-- Periods that do not begin or end on a month's first day count their partial months from the
-- rows themselves (see `store::indicators`); a round is always counted from the rows. Derived
-- data only: `homeward bench indicators` and the conformance suite hold the tallies against a
-- count from the rows.
--
-- A year of birth not known is -1 here (a key cannot be NULL); the reads turn it back.

-- Cases by the month they were opened, their state and their child's sex and year of birth
-- (the tracing request's, else the custody record's, as the counts from the rows take them).
CREATE TABLE case_tallies (
    month      TEXT NOT NULL,
    state      TEXT NOT NULL,
    sex        TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (month, state, sex, birth_year)
) STRICT, WITHOUT ROWID;

-- Completed spells by the month their case was opened, the state and whole days.
CREATE TABLE spell_tallies (
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    days  INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (month, state, days)
) STRICT, WITHOUT ROWID;

-- First handovers by the month their case was opened and the month of the handover.
CREATE TABLE return_tallies (
    month        TEXT NOT NULL,
    handed_over  TEXT NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (month, handed_over)
) STRICT, WITHOUT ROWID;

-- Records not deleted, by the month they were filed, kind, party, sex and year of birth.
CREATE TABLE record_tallies (
    month      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    party_id   BLOB NOT NULL,
    sex        TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (month, kind, party_id, sex, birth_year)
) STRICT, WITHOUT ROWID;

-- Partial months and rounds are counted from the rows: these find them without a full scan.
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_round ON cases (json_extract(content, '$.listing.list_ref'))
WHERE json_extract(content, '$.listing.list_ref') IS NOT NULL;
CREATE INDEX records_created ON records (created_at) WHERE deleted_at IS NULL;

-- ---- Cases
CREATE TRIGGER cases_tally_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT substr(NEW.created_at, 1, 7), NEW.state, COALESCE(t.sex, k.sex, 'unknown'),
           COALESCE(t.birth_year, k.birth_year, -1), 1
    FROM (SELECT 1) LEFT JOIN records t ON t.id = NEW.tracing_record_id
                    LEFT JOIN records k ON k.id = NEW.custody_record_id
    WHERE true
    ON CONFLICT (month, state, sex, birth_year) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cases_tally_update AFTER UPDATE OF state, tracing_record_id, custody_record_id ON cases
WHEN OLD.state IS NOT NEW.state OR OLD.tracing_record_id IS NOT NEW.tracing_record_id
  OR OLD.custody_record_id IS NOT NEW.custody_record_id
BEGIN
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT substr(OLD.created_at, 1, 7), OLD.state, COALESCE(t.sex, k.sex, 'unknown'),
           COALESCE(t.birth_year, k.birth_year, -1), -1
    FROM (SELECT 1) LEFT JOIN records t ON t.id = OLD.tracing_record_id
                    LEFT JOIN records k ON k.id = OLD.custody_record_id
    WHERE true
    ON CONFLICT (month, state, sex, birth_year) DO UPDATE SET n = n - 1;
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT substr(NEW.created_at, 1, 7), NEW.state, COALESCE(t.sex, k.sex, 'unknown'),
           COALESCE(t.birth_year, k.birth_year, -1), 1
    FROM (SELECT 1) LEFT JOIN records t ON t.id = NEW.tracing_record_id
                    LEFT JOIN records k ON k.id = NEW.custody_record_id
    WHERE true
    ON CONFLICT (month, state, sex, birth_year) DO UPDATE SET n = n + 1;
END;

-- A record's sex or year of birth changed: its cases move cell, counted with the record as it
-- was, then as it is.
CREATE TRIGGER records_case_tally_update AFTER UPDATE OF sex, birth_year ON records
WHEN OLD.sex IS NOT NEW.sex OR OLD.birth_year IS NOT NEW.birth_year
BEGIN
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT substr(c.created_at, 1, 7), c.state,
           COALESCE(CASE WHEN c.tracing_record_id = OLD.id THEN OLD.sex ELSE t.sex END,
                    CASE WHEN c.custody_record_id = OLD.id THEN OLD.sex ELSE k.sex END, 'unknown'),
           COALESCE(CASE WHEN c.tracing_record_id = OLD.id THEN OLD.birth_year ELSE t.birth_year END,
                    CASE WHEN c.custody_record_id = OLD.id THEN OLD.birth_year ELSE k.birth_year END, -1),
           -1
    FROM cases c LEFT JOIN records t ON t.id = c.tracing_record_id
                 LEFT JOIN records k ON k.id = c.custody_record_id
    WHERE c.tracing_record_id = OLD.id OR c.custody_record_id = OLD.id
    ON CONFLICT (month, state, sex, birth_year) DO UPDATE SET n = n - 1;
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT substr(c.created_at, 1, 7), c.state, COALESCE(t.sex, k.sex, 'unknown'),
           COALESCE(t.birth_year, k.birth_year, -1), 1
    FROM cases c LEFT JOIN records t ON t.id = c.tracing_record_id
                 LEFT JOIN records k ON k.id = c.custody_record_id
    WHERE c.tracing_record_id = OLD.id OR c.custody_record_id = OLD.id
    ON CONFLICT (month, state, sex, birth_year) DO UPDATE SET n = n + 1;
END;

-- ---- Spells and first handovers (case_spells is kept by the trigger of migration 0017)
CREATE TRIGGER case_spells_tally_close AFTER UPDATE OF left_at ON case_spells
WHEN OLD.left_at IS NULL AND NEW.left_at IS NOT NULL
BEGIN
    INSERT INTO spell_tallies (month, state, days, n)
    SELECT substr(c.created_at, 1, 7), NEW.state, NEW.days, 1 FROM cases c WHERE c.id = NEW.case_id
    ON CONFLICT (month, state, days) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER case_spells_tally_return AFTER INSERT ON case_spells
WHEN NEW.state = 'handed_over' AND NOT EXISTS (
    SELECT 1 FROM case_spells s
    WHERE s.case_id = NEW.case_id AND s.state = 'handed_over' AND s.version < NEW.version)
BEGIN
    INSERT INTO return_tallies (month, handed_over, n)
    SELECT substr(c.created_at, 1, 7), substr(NEW.entered_at, 1, 7), 1 FROM cases c WHERE c.id = NEW.case_id
    ON CONFLICT (month, handed_over) DO UPDATE SET n = n + 1;
END;

-- ---- Records
CREATE TRIGGER records_tally_insert AFTER INSERT ON records WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    VALUES (substr(NEW.created_at, 1, 7), NEW.kind, NEW.party_id, NEW.sex, COALESCE(NEW.birth_year, -1), 1)
    ON CONFLICT (month, kind, party_id, sex, birth_year) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER records_tally_update AFTER UPDATE OF kind, party_id, sex, birth_year, deleted_at, created_at ON records
WHEN OLD.kind IS NOT NEW.kind OR OLD.party_id IS NOT NEW.party_id OR OLD.sex IS NOT NEW.sex
  OR OLD.birth_year IS NOT NEW.birth_year OR OLD.deleted_at IS NOT NEW.deleted_at
  OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    SELECT substr(OLD.created_at, 1, 7), OLD.kind, OLD.party_id, OLD.sex, COALESCE(OLD.birth_year, -1), -1
    WHERE OLD.deleted_at IS NULL
    ON CONFLICT (month, kind, party_id, sex, birth_year) DO UPDATE SET n = n - 1;
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    SELECT substr(NEW.created_at, 1, 7), NEW.kind, NEW.party_id, NEW.sex, COALESCE(NEW.birth_year, -1), 1
    WHERE NEW.deleted_at IS NULL
    ON CONFLICT (month, kind, party_id, sex, birth_year) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER records_tally_delete AFTER DELETE ON records WHEN OLD.deleted_at IS NULL
BEGIN
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    VALUES (substr(OLD.created_at, 1, 7), OLD.kind, OLD.party_id, OLD.sex, COALESCE(OLD.birth_year, -1), -1)
    ON CONFLICT (month, kind, party_id, sex, birth_year) DO UPDATE SET n = n - 1;
END;

-- ---- What is already stored
INSERT INTO case_tallies (month, state, sex, birth_year, n)
SELECT substr(c.created_at, 1, 7), c.state, COALESCE(t.sex, k.sex, 'unknown'),
       COALESCE(t.birth_year, k.birth_year, -1), COUNT(*)
FROM cases c LEFT JOIN records t ON t.id = c.tracing_record_id
             LEFT JOIN records k ON k.id = c.custody_record_id
GROUP BY 1, 2, 3, 4;
INSERT INTO spell_tallies (month, state, days, n)
SELECT substr(c.created_at, 1, 7), s.state, s.days, COUNT(*)
FROM case_spells s JOIN cases c ON c.id = s.case_id WHERE s.left_at IS NOT NULL
GROUP BY 1, 2, 3;
INSERT INTO return_tallies (month, handed_over, n)
SELECT substr(c.created_at, 1, 7), substr(h.at, 1, 7), COUNT(*)
FROM (SELECT case_id, MIN(entered_at) AS at FROM case_spells WHERE state = 'handed_over' GROUP BY case_id) h
JOIN cases c ON c.id = h.case_id
GROUP BY 1, 2;
INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
SELECT substr(created_at, 1, 7), kind, party_id, sex, COALESCE(birth_year, -1), COUNT(*)
FROM records WHERE deleted_at IS NULL
GROUP BY 1, 2, 3, 4, 5;
