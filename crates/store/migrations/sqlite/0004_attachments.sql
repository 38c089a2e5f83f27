-- Attachments: documents and photos on child records and cases. The content is a blob in the
-- encrypted, content-addressed store on disk (named by `sha256`); this table says whose it is, who
-- uploaded it, and who may see it.

CREATE TABLE attachments (
    id           BLOB NOT NULL PRIMARY KEY,
    -- SHA-256 of the plaintext, lowercase hex: the blob's name. Several rows may share one blob.
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    -- `record` or `case`; exactly the matching id column is set, so each owner keeps its
    -- foreign key.
    owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('record', 'case')),
    record_id    BLOB REFERENCES records (id),
    case_id      BLOB REFERENCES cases (id),
    -- Whose scope it is in: the record's party (so the same parties see it as see the record), or
    -- for a case the mediator's.
    party_id     BLOB NOT NULL REFERENCES parties (id),
    -- As the uploader's client named it, unchanged.
    filename     TEXT NOT NULL,
    -- Sniffed from the content, never taken from the client.
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    uploaded_by  BLOB NOT NULL REFERENCES users (id),
    uploaded_at  TEXT NOT NULL,
    description  TEXT,
    deleted_at   TEXT,
    CHECK ((owner_kind = 'record' AND record_id IS NOT NULL AND case_id IS NULL)
        OR (owner_kind = 'case' AND case_id IS NOT NULL AND record_id IS NULL))
) STRICT;
CREATE INDEX attachments_record ON attachments (record_id, uploaded_at) WHERE record_id IS NOT NULL;
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at) WHERE case_id IS NOT NULL;
CREATE INDEX attachments_sha256 ON attachments (sha256);
