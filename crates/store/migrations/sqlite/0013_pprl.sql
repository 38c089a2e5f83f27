-- Privacy-preserving linkage (PPRL): each side uploads its list encoded on its own machine; the
-- mediator links two lists of one round and keeps only which reference of one side goes with which
-- reference of the other (never a similarity); the pairs then follow their own small workflow
-- (the mediator asks each side for its clear record, each side answers or declines).

CREATE TABLE pprl_lists (
    id          BLOB NOT NULL PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties (id),
    -- The round the mediator announced: every list of a round has the same spec and key id.
    round       TEXT NOT NULL,
    spec        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    records     INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    -- The encoded list as uploaded (JSON): encodings and the side's own references, no names.
    content     TEXT NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX pprl_lists_round ON pprl_lists (round, created_at);
CREATE INDEX pprl_lists_party ON pprl_lists (party_id, created_at);

CREATE TABLE pprl_runs (
    id              BLOB NOT NULL PRIMARY KEY,
    round           TEXT NOT NULL,
    origin_list_id  BLOB NOT NULL REFERENCES pprl_lists (id),
    custody_list_id BLOB NOT NULL REFERENCES pprl_lists (id),
    created_by      BLOB NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    -- Set once, by the job that linked the lists; with how many pairs it kept.
    finished_at     TEXT,
    pairs           INTEGER
) STRICT;
CREATE INDEX pprl_runs_created ON pprl_runs (created_at, id);

CREATE TABLE pprl_pairs (
    id                BLOB NOT NULL PRIMARY KEY,
    run_id            BLOB NOT NULL REFERENCES pprl_runs (id),
    origin_ref        TEXT NOT NULL,
    custody_ref       TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('proposed', 'requested', 'origin_answered',
                          'custody_answered', 'in_review', 'declined', 'dismissed')),
    -- The clear records each side submitted for its reference.
    origin_record_id  BLOB REFERENCES records (id),
    custody_record_id BLOB REFERENCES records (id),
    -- The candidate the pair became in the review queue.
    match_id          BLOB,
    updated_at        TEXT NOT NULL,
    -- One-to-one: a reference is in at most one pair of a run.
    UNIQUE (run_id, origin_ref),
    UNIQUE (run_id, custody_ref)
) STRICT;
