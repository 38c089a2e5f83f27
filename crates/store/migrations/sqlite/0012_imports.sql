-- Each committed import's fingerprint: the same file (same content hash) imported again by the
-- same party is refused unless forced, so a re-sent file does not file every child twice.
CREATE TABLE imports (
    id          BLOB NOT NULL PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties (id),
    kind        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported    INTEGER NOT NULL,
    forced      INTEGER NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX imports_fingerprint ON imports (party_id, sha256, created_at);
