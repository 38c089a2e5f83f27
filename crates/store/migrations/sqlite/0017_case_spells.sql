-- The mission dashboard at 100,000 records (issue 16): each spell a case spent in a state, kept by
-- a trigger as case versions are written, so that the median days in each state and the month of
-- each first handover are read from a small indexed table instead of window functions over every
-- case version. Derived data only: nothing is read from it but figures.

CREATE TABLE case_spells (
    case_id    BLOB NOT NULL REFERENCES cases (id),
    -- The version that entered the state.
    version    INTEGER NOT NULL,
    state      TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    -- The moment the next spell started; NULL while the case is still in the state.
    left_at    TEXT,
    -- Whole days from entered_at to left_at.
    days       INTEGER,
    PRIMARY KEY (case_id, version)
) STRICT;
CREATE INDEX case_spells_open ON case_spells (case_id) WHERE left_at IS NULL;
CREATE INDEX case_spells_days ON case_spells (state, days, case_id) WHERE left_at IS NOT NULL;
CREATE INDEX case_spells_entered ON case_spells (state, case_id, entered_at);

INSERT INTO case_spells (case_id, version, state, entered_at, left_at)
SELECT case_id, version, state, changed_at, LEAD(changed_at) OVER (PARTITION BY case_id ORDER BY version)
FROM (SELECT case_id, version, state, changed_at,
             LAG(state) OVER (PARTITION BY case_id ORDER BY version) AS prev
      FROM case_versions)
WHERE prev IS NULL OR prev <> state;
UPDATE case_spells SET days = CAST(julianday(left_at) - julianday(entered_at) AS INTEGER)
WHERE left_at IS NOT NULL;

-- Versions are written in order; a version in another state than the open spell's closes it and
-- opens a new one.
CREATE TRIGGER case_versions_spells AFTER INSERT ON case_versions
WHEN NEW.state IS NOT (SELECT state FROM case_spells WHERE case_id = NEW.case_id AND left_at IS NULL)
BEGIN
    UPDATE case_spells
    SET left_at = NEW.changed_at,
        days = CAST(julianday(NEW.changed_at) - julianday(entered_at) AS INTEGER)
    WHERE case_id = NEW.case_id AND left_at IS NULL;
    INSERT INTO case_spells (case_id, version, state, entered_at)
    VALUES (NEW.case_id, NEW.version, NEW.state, NEW.changed_at);
END;

-- The record figures read from an index rather than the records' rows.
CREATE INDEX records_indicators ON records (kind, sex, birth_year, created_at, party_id)
WHERE deleted_at IS NULL;
-- A case's child: sex and year of birth from an index.
CREATE INDEX records_sex_born ON records (id, sex, birth_year);
-- Cases by state with their children, from an index.
CREATE INDEX cases_indicators ON cases (state, tracing_record_id, custody_record_id, created_at);
