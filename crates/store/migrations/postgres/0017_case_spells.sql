-- The mission dashboard at 100,000 records (issue 16): the same table, trigger and indexes as the
-- SQLite migration.

CREATE TABLE case_spells (
    case_id    UUID NOT NULL REFERENCES cases (id),
    version    BIGINT NOT NULL,
    state      TEXT NOT NULL,
    entered_at TIMESTAMPTZ NOT NULL,
    left_at    TIMESTAMPTZ,
    days       BIGINT,
    PRIMARY KEY (case_id, version)
);
CREATE INDEX case_spells_open ON case_spells (case_id) WHERE left_at IS NULL;
CREATE INDEX case_spells_days ON case_spells (state, days, case_id) WHERE left_at IS NOT NULL;
CREATE INDEX case_spells_entered ON case_spells (state, case_id, entered_at);

INSERT INTO case_spells (case_id, version, state, entered_at, left_at)
SELECT case_id, version, state, changed_at, LEAD(changed_at) OVER (PARTITION BY case_id ORDER BY version)
FROM (SELECT case_id, version, state, changed_at,
             LAG(state) OVER (PARTITION BY case_id ORDER BY version) AS prev
      FROM case_versions) v
WHERE prev IS NULL OR prev <> state;
UPDATE case_spells SET days = FLOOR(EXTRACT(EPOCH FROM (left_at - entered_at)) / 86400)::BIGINT
WHERE left_at IS NOT NULL;

CREATE FUNCTION case_spells_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM
       (SELECT state FROM case_spells WHERE case_id = NEW.case_id AND left_at IS NULL) THEN
        UPDATE case_spells
        SET left_at = NEW.changed_at,
            days = FLOOR(EXTRACT(EPOCH FROM (NEW.changed_at - entered_at)) / 86400)::BIGINT
        WHERE case_id = NEW.case_id AND left_at IS NULL;
        INSERT INTO case_spells (case_id, version, state, entered_at)
        VALUES (NEW.case_id, NEW.version, NEW.state, NEW.changed_at);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_versions_spells AFTER INSERT ON case_versions
FOR EACH ROW EXECUTE FUNCTION case_spells_follow();

CREATE INDEX records_indicators ON records (kind, sex, birth_year, created_at, party_id)
WHERE deleted_at IS NULL;
CREATE INDEX records_sex_born ON records (id, sex, birth_year);
-- Cases by state with their children, from an index.
CREATE INDEX cases_indicators ON cases (state, tracing_record_id, custody_record_id, created_at);
