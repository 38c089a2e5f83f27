-- The case workflow: the same tables and columns as the SQLite migration.

CREATE TABLE case_versions (
    case_id    UUID NOT NULL REFERENCES cases (id),
    version    BIGINT NOT NULL,
    content    JSONB NOT NULL,
    change     TEXT NOT NULL,
    changed_by UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, version)
);

INSERT INTO case_versions (case_id, version, content, change, changed_by, changed_at)
SELECT id, version, content, 'create', (content ->> 'opened_by')::uuid, created_at FROM cases;

CREATE INDEX cases_state ON cases (state, id);

ALTER TABLE cases ADD COLUMN follow_up_due TEXT;
CREATE INDEX cases_follow_up_due ON cases (follow_up_due) WHERE follow_up_due IS NOT NULL;

CREATE TABLE disclosures (
    id           UUID PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES cases (id),
    to_party     UUID NOT NULL REFERENCES parties (id),
    content      JSONB NOT NULL,
    disclosed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX disclosures_case ON disclosures (case_id, disclosed_at);
CREATE INDEX disclosures_party ON disclosures (to_party, disclosed_at);

CREATE TABLE tasks (
    id         UUID PRIMARY KEY,
    case_id    UUID NOT NULL REFERENCES cases (id),
    party_id   UUID NOT NULL REFERENCES parties (id),
    status     TEXT NOT NULL,
    due        TEXT NOT NULL,
    content    JSONB NOT NULL,
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_party ON tasks (party_id, status, due, id);
CREATE INDEX tasks_case ON tasks (case_id);
