-- Privacy-preserving linkage: the same tables and columns as the SQLite migration.

CREATE TABLE pprl_lists (
    id          UUID PRIMARY KEY,
    party_id    UUID NOT NULL REFERENCES parties (id),
    round       TEXT NOT NULL,
    spec        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    records     BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_by  UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX pprl_lists_round ON pprl_lists (round, created_at);
CREATE INDEX pprl_lists_party ON pprl_lists (party_id, created_at);

CREATE TABLE pprl_runs (
    id              UUID PRIMARY KEY,
    round           TEXT NOT NULL,
    origin_list_id  UUID NOT NULL REFERENCES pprl_lists (id),
    custody_list_id UUID NOT NULL REFERENCES pprl_lists (id),
    created_by      UUID NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    pairs           BIGINT
);
CREATE INDEX pprl_runs_created ON pprl_runs (created_at, id);

CREATE TABLE pprl_pairs (
    id                UUID PRIMARY KEY,
    run_id            UUID NOT NULL REFERENCES pprl_runs (id),
    origin_ref        TEXT NOT NULL,
    custody_ref       TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('proposed', 'requested', 'origin_answered',
                          'custody_answered', 'in_review', 'declined', 'dismissed')),
    origin_record_id  UUID REFERENCES records (id),
    custody_record_id UUID REFERENCES records (id),
    match_id          UUID,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (run_id, origin_ref),
    UNIQUE (run_id, custody_ref)
);
