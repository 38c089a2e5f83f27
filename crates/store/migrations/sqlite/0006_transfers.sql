-- Transfer lists (every version kept: approvals name a content, and a party must be able to see
-- what changed since it approved) and transfer plans.

-- `content` is the domain TransferList as JSON; the other columns are copies for queries.
CREATE TABLE transfer_lists (
    id            BLOB NOT NULL PRIMARY KEY,
    origin_party  BLOB NOT NULL REFERENCES parties (id),
    custody_party BLOB NOT NULL REFERENCES parties (id),
    state         TEXT NOT NULL,
    content       TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX transfer_lists_origin ON transfer_lists (origin_party, id);
CREATE INDEX transfer_lists_custody ON transfer_lists (custody_party, id);

CREATE TABLE transfer_list_versions (
    list_id    BLOB NOT NULL REFERENCES transfer_lists (id),
    version    INTEGER NOT NULL,
    content    TEXT NOT NULL,
    change     TEXT NOT NULL,
    changed_by BLOB NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (list_id, version)
) STRICT;

-- The cases on a list that is not completed, and not withdrawn from it: the primary key is the
-- rule that a child is on one open list at a time.
CREATE TABLE transfer_list_cases (
    case_id BLOB NOT NULL PRIMARY KEY REFERENCES cases (id),
    list_id BLOB NOT NULL REFERENCES transfer_lists (id)
) STRICT;
CREATE INDEX transfer_list_cases_list ON transfer_list_cases (list_id);

CREATE TABLE transfer_plans (
    id         BLOB NOT NULL PRIMARY KEY,
    list_id    BLOB NOT NULL REFERENCES transfer_lists (id),
    content    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX transfer_plans_list ON transfer_plans (list_id);

-- A child travels by one plan.
CREATE TABLE transfer_plan_cases (
    case_id BLOB NOT NULL PRIMARY KEY REFERENCES cases (id),
    plan_id BLOB NOT NULL REFERENCES transfer_plans (id)
) STRICT;
