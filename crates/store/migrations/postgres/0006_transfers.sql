-- Transfer lists and plans: the same tables and columns as the SQLite migration.

CREATE TABLE transfer_lists (
    id            UUID PRIMARY KEY,
    origin_party  UUID NOT NULL REFERENCES parties (id),
    custody_party UUID NOT NULL REFERENCES parties (id),
    state         TEXT NOT NULL,
    content       JSONB NOT NULL,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX transfer_lists_origin ON transfer_lists (origin_party, id);
CREATE INDEX transfer_lists_custody ON transfer_lists (custody_party, id);

CREATE TABLE transfer_list_versions (
    list_id    UUID NOT NULL REFERENCES transfer_lists (id),
    version    BIGINT NOT NULL,
    content    JSONB NOT NULL,
    change     TEXT NOT NULL,
    changed_by UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, version)
);

CREATE TABLE transfer_list_cases (
    case_id UUID PRIMARY KEY REFERENCES cases (id),
    list_id UUID NOT NULL REFERENCES transfer_lists (id)
);
CREATE INDEX transfer_list_cases_list ON transfer_list_cases (list_id);

CREATE TABLE transfer_plans (
    id         UUID PRIMARY KEY,
    list_id    UUID NOT NULL REFERENCES transfer_lists (id),
    content    JSONB NOT NULL,
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX transfer_plans_list ON transfer_plans (list_id);

CREATE TABLE transfer_plan_cases (
    case_id UUID PRIMARY KEY REFERENCES cases (id),
    plan_id UUID NOT NULL REFERENCES transfer_plans (id)
);
