-- The mission dashboard under 100 ms at 100,000 records (issue 16): running tallies of what the
-- dashboard counts, as in the SQLite migration. Here the triggers only ever INSERT signed deltas
-- (no row is updated in place, so two writers never wait for, or deadlock on, a hot cell), once
-- per statement from its transition tables; a read folds the deltas into one row per cell in the
-- same statement that deletes them (see `store::indicators`).
--
-- A year of birth not known is -1 here; the reads turn it back.

CREATE TABLE case_tallies (
    month      TEXT NOT NULL,
    state      TEXT NOT NULL,
    sex        TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n          BIGINT NOT NULL
);
CREATE INDEX case_tallies_month ON case_tallies (month);

CREATE TABLE spell_tallies (
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    days  BIGINT NOT NULL,
    n     BIGINT NOT NULL
);
CREATE INDEX spell_tallies_month ON spell_tallies (month);

CREATE TABLE return_tallies (
    month       TEXT NOT NULL,
    handed_over TEXT NOT NULL,
    n           BIGINT NOT NULL
);
CREATE INDEX return_tallies_month ON return_tallies (month);

CREATE TABLE record_tallies (
    month      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    party_id   UUID NOT NULL,
    sex        TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n          BIGINT NOT NULL
);
CREATE INDEX record_tallies_month ON record_tallies (month);

CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_round ON cases ((content -> 'listing' ->> 'list_ref'))
WHERE (content -> 'listing' ->> 'list_ref') IS NOT NULL;
CREATE INDEX records_created ON records (created_at) WHERE deleted_at IS NULL;

CREATE FUNCTION tally_month(t TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM') $$;

-- ---- Cases
CREATE FUNCTION cases_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT tally_month(c.created_at), c.state, COALESCE(t.sex, k.sex, 'unknown'),
           COALESCE(t.birth_year, k.birth_year, -1), COUNT(*)
    FROM new_rows c LEFT JOIN records t ON t.id = c.tracing_record_id
                    LEFT JOIN records k ON k.id = c.custody_record_id
    GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;
CREATE TRIGGER cases_tally_insert AFTER INSERT ON cases
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_tally_insert();

CREATE FUNCTION cases_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT month, state, sex, birth_year, SUM(n) FROM (
        SELECT tally_month(o.created_at) AS month, o.state, COALESCE(t.sex, k.sex, 'unknown') AS sex,
               COALESCE(t.birth_year, k.birth_year, -1) AS birth_year, -1 AS n
        FROM old_rows o JOIN new_rows x ON x.id = o.id
        LEFT JOIN records t ON t.id = o.tracing_record_id
        LEFT JOIN records k ON k.id = o.custody_record_id
        WHERE (o.state, o.tracing_record_id, o.custody_record_id)
              IS DISTINCT FROM (x.state, x.tracing_record_id, x.custody_record_id)
        UNION ALL
        SELECT tally_month(x.created_at), x.state, COALESCE(t.sex, k.sex, 'unknown'),
               COALESCE(t.birth_year, k.birth_year, -1), 1
        FROM old_rows o JOIN new_rows x ON x.id = o.id
        LEFT JOIN records t ON t.id = x.tracing_record_id
        LEFT JOIN records k ON k.id = x.custody_record_id
        WHERE (o.state, o.tracing_record_id, o.custody_record_id)
              IS DISTINCT FROM (x.state, x.tracing_record_id, x.custody_record_id)
    ) d GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0;
    RETURN NULL;
END;
$$;
CREATE TRIGGER cases_tally_update AFTER UPDATE ON cases
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cases_tally_update();

-- ---- Records: their own tallies, and their cases' when a sex or year of birth changed.
CREATE FUNCTION records_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    SELECT tally_month(created_at), kind, party_id, sex, COALESCE(birth_year, -1), COUNT(*)
    FROM new_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END;
$$;
CREATE TRIGGER records_tally_insert AFTER INSERT ON records
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION records_tally_insert();

CREATE FUNCTION records_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        SELECT o.id, o.sex AS o_sex, o.birth_year AS o_birth_year, o.deleted_at IS NOT NULL AS o_deleted,
               tally_month(o.created_at) AS o_month, o.kind AS o_kind, o.party_id AS o_party,
               x.sex AS n_sex, x.birth_year AS n_birth_year, x.deleted_at IS NOT NULL AS n_deleted,
               tally_month(x.created_at) AS n_month, x.kind AS n_kind, x.party_id AS n_party
        FROM old_rows o JOIN new_rows x ON x.id = o.id
        WHERE (o.kind, o.party_id, o.sex, o.birth_year, o.deleted_at IS NULL, o.created_at)
              IS DISTINCT FROM (x.kind, x.party_id, x.sex, x.birth_year, x.deleted_at IS NULL, x.created_at)
    ),
    own AS (
        INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
        SELECT month, kind, party_id, sex, birth_year, SUM(n) FROM (
            SELECT o_month AS month, o_kind AS kind, o_party AS party_id, o_sex AS sex,
                   COALESCE(o_birth_year, -1) AS birth_year, -1 AS n
            FROM changed WHERE NOT o_deleted
            UNION ALL
            SELECT n_month, n_kind, n_party, n_sex, COALESCE(n_birth_year, -1), 1
            FROM changed WHERE NOT n_deleted
        ) d GROUP BY 1, 2, 3, 4, 5 HAVING SUM(n) <> 0
    ),
    -- Each case of a changed record, counted with its records as they were, then as they are.
    touched AS (
        SELECT c.id, c.state, c.created_at, c.tracing_record_id, c.custody_record_id FROM cases c
        WHERE c.tracing_record_id IN (SELECT id FROM changed)
           OR c.custody_record_id IN (SELECT id FROM changed)
    )
    INSERT INTO case_tallies (month, state, sex, birth_year, n)
    SELECT month, state, sex, birth_year, SUM(n) FROM (
        SELECT tally_month(c.created_at) AS month, c.state,
               COALESCE(CASE WHEN ot.id IS NULL THEN t.sex ELSE ot.o_sex END,
                        CASE WHEN ok.id IS NULL THEN k.sex ELSE ok.o_sex END, 'unknown') AS sex,
               COALESCE(CASE WHEN ot.id IS NULL THEN t.birth_year ELSE ot.o_birth_year END,
                        CASE WHEN ok.id IS NULL THEN k.birth_year ELSE ok.o_birth_year END, -1) AS birth_year,
               -1 AS n
        FROM touched c LEFT JOIN records t ON t.id = c.tracing_record_id
                       LEFT JOIN records k ON k.id = c.custody_record_id
                       LEFT JOIN changed ot ON ot.id = c.tracing_record_id
                       LEFT JOIN changed ok ON ok.id = c.custody_record_id
        UNION ALL
        SELECT tally_month(c.created_at), c.state, COALESCE(t.sex, k.sex, 'unknown'),
               COALESCE(t.birth_year, k.birth_year, -1), 1
        FROM touched c LEFT JOIN records t ON t.id = c.tracing_record_id
                       LEFT JOIN records k ON k.id = c.custody_record_id
    ) d GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0;
    RETURN NULL;
END;
$$;
CREATE TRIGGER records_tally_update AFTER UPDATE ON records
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION records_tally_update();

CREATE FUNCTION records_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
    SELECT tally_month(created_at), kind, party_id, sex, COALESCE(birth_year, -1), -COUNT(*)
    FROM old_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END;
$$;
CREATE TRIGGER records_tally_delete AFTER DELETE ON records
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION records_tally_delete();

-- ---- Spells and first handovers (case_spells is kept by the trigger of migration 0017)
CREATE FUNCTION case_spells_tally_close() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spell_tallies (month, state, days, n)
    SELECT tally_month(c.created_at), x.state, x.days, COUNT(*)
    FROM old_rows o JOIN new_rows x ON x.case_id = o.case_id AND x.version = o.version
    JOIN cases c ON c.id = x.case_id
    WHERE o.left_at IS NULL AND x.left_at IS NOT NULL
    GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_spells_tally_close AFTER UPDATE ON case_spells
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION case_spells_tally_close();

CREATE FUNCTION case_spells_tally_return() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO return_tallies (month, handed_over, n)
    SELECT tally_month(c.created_at), tally_month(x.entered_at), COUNT(*)
    FROM new_rows x JOIN cases c ON c.id = x.case_id
    WHERE x.state = 'handed_over' AND NOT EXISTS (
        SELECT 1 FROM case_spells s
        WHERE s.case_id = x.case_id AND s.state = 'handed_over' AND s.version < x.version)
    GROUP BY 1, 2;
    RETURN NULL;
END;
$$;
CREATE TRIGGER case_spells_tally_return AFTER INSERT ON case_spells
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_spells_tally_return();

-- ---- What is already stored
INSERT INTO case_tallies (month, state, sex, birth_year, n)
SELECT tally_month(c.created_at), c.state, COALESCE(t.sex, k.sex, 'unknown'),
       COALESCE(t.birth_year, k.birth_year, -1), COUNT(*)
FROM cases c LEFT JOIN records t ON t.id = c.tracing_record_id
             LEFT JOIN records k ON k.id = c.custody_record_id
GROUP BY 1, 2, 3, 4;
INSERT INTO spell_tallies (month, state, days, n)
SELECT tally_month(c.created_at), s.state, s.days, COUNT(*)
FROM case_spells s JOIN cases c ON c.id = s.case_id WHERE s.left_at IS NOT NULL
GROUP BY 1, 2, 3;
INSERT INTO return_tallies (month, handed_over, n)
SELECT tally_month(c.created_at), tally_month(h.at), COUNT(*)
FROM (SELECT case_id, MIN(entered_at) AS at FROM case_spells WHERE state = 'handed_over' GROUP BY case_id) h
JOIN cases c ON c.id = h.case_id
GROUP BY 1, 2;
INSERT INTO record_tallies (month, kind, party_id, sex, birth_year, n)
SELECT tally_month(created_at), kind, party_id, sex, COALESCE(birth_year, -1), COUNT(*)
FROM records WHERE deleted_at IS NULL
GROUP BY 1, 2, 3, 4, 5;
