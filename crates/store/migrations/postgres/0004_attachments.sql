-- Attachments: the same table and columns as the SQLite migration.

CREATE TABLE attachments (
    id           UUID PRIMARY KEY,
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('record', 'case')),
    record_id    UUID REFERENCES records (id),
    case_id      UUID REFERENCES cases (id),
    party_id     UUID NOT NULL REFERENCES parties (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL CHECK (size > 0),
    uploaded_by  UUID NOT NULL REFERENCES users (id),
    uploaded_at  TIMESTAMPTZ NOT NULL,
    description  TEXT,
    deleted_at   TIMESTAMPTZ,
    CHECK ((owner_kind = 'record' AND record_id IS NOT NULL AND case_id IS NULL)
        OR (owner_kind = 'case' AND case_id IS NOT NULL AND record_id IS NULL))
);
CREATE INDEX attachments_record ON attachments (record_id, uploaded_at) WHERE record_id IS NOT NULL;
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at) WHERE case_id IS NOT NULL;
CREATE INDEX attachments_sha256 ON attachments (sha256);
