-- The case workflow: every version of a case kept (the timeline of what happened and who did it),
-- disclosures to the counterpart, and tasks referred to humanitarian parties.

CREATE TABLE case_versions (
    case_id    BLOB NOT NULL REFERENCES cases (id),
    version    INTEGER NOT NULL,
    content    TEXT NOT NULL,
    -- What the version changed, e.g. `create`, `transition`, `consent_record`.
    change     TEXT NOT NULL,
    changed_by BLOB NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (case_id, version)
) STRICT;

-- Cases opened before this migration get their first version from what they are now.
INSERT INTO case_versions (case_id, version, content, change, changed_by, changed_at)
SELECT id, version, content, 'create', unhex(replace(json_extract(content, '$.opened_by'), '-', '')), created_at
FROM cases;

CREATE INDEX cases_state ON cases (state, id);

-- The earliest follow-up visit still open (YYYY-MM-DD), so overdue follow-ups are found without
-- reading every case.
ALTER TABLE cases ADD COLUMN follow_up_due TEXT;
CREATE INDEX cases_follow_up_due ON cases (follow_up_due) WHERE follow_up_due IS NOT NULL;

-- What the counterpart was told, exactly as told; never changed once written.
CREATE TABLE disclosures (
    id           BLOB NOT NULL PRIMARY KEY,
    case_id      BLOB NOT NULL REFERENCES cases (id),
    to_party     BLOB NOT NULL REFERENCES parties (id),
    content      TEXT NOT NULL,
    disclosed_at TEXT NOT NULL
) STRICT;
CREATE INDEX disclosures_case ON disclosures (case_id, disclosed_at);
CREATE INDEX disclosures_party ON disclosures (to_party, disclosed_at);

-- `content` is the domain Task as JSON; the other columns are copies for queries.
CREATE TABLE tasks (
    id         BLOB NOT NULL PRIMARY KEY,
    case_id    BLOB NOT NULL REFERENCES cases (id),
    party_id   BLOB NOT NULL REFERENCES parties (id),
    status     TEXT NOT NULL,
    -- YYYY-MM-DD: sorts as text.
    due        TEXT NOT NULL,
    content    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX tasks_party ON tasks (party_id, status, due, id);
CREATE INDEX tasks_case ON tasks (case_id);
