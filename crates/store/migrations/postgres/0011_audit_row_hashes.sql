-- The audit row hashes: the same table as the SQLite migration.
CREATE TABLE audit_row_adoption (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    pending BIGINT NOT NULL
);
INSERT INTO audit_row_adoption (id, pending) VALUES (1, 1);
