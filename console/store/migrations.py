"""Schema migrations of the farm file, in order. ``PRAGMA user_version`` = how many have run.

Never edit a migration that has shipped: append a new one. Each runs in one transaction.
"""
from __future__ import annotations

MIGRATION_1 = """
CREATE TABLE providers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind        TEXT NOT NULL,
    settings    TEXT NOT NULL,            -- JSON of ConnectionSettings; never a password
    lab         INTEGER NOT NULL DEFAULT 0,
    created     TEXT NOT NULL
);

CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    progress      REAL NOT NULL DEFAULT 0,
    progress_text TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL,
    started       TEXT NOT NULL DEFAULT '',
    finished      TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    provider_id   INTEGER,                -- no foreign key: the history outlives the provider
    host          TEXT NOT NULL DEFAULT '',
    result        TEXT NOT NULL DEFAULT '{}',
    cleanup       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX tasks_state ON tasks(state);

CREATE TABLE task_log (
    task_id  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    at       TEXT NOT NULL,
    level    TEXT NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;

CREATE TABLE templates (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    TEXT NOT NULL UNIQUE,
    provider_id             INTEGER NOT NULL,
    source_vm_id            TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    state                   TEXT NOT NULL,
    distribution_enabled    INTEGER NOT NULL DEFAULT 0,
    concurrent_distribution INTEGER NOT NULL DEFAULT 2,
    created                 TEXT NOT NULL DEFAULT ''
);

CREATE TABLE template_versions (
    template_id INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    created     TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    tag         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (template_id, number)
);

CREATE TABLE distribution_targets (
    template_id INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    provider_id INTEGER NOT NULL,
    state       TEXT NOT NULL,
    progress    TEXT NOT NULL,
    version     INTEGER,
    last_error  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (template_id, provider_id)
);

CREATE TABLE pools (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL UNIQUE,
    template_id         INTEGER NOT NULL REFERENCES templates(id),
    version             INTEGER NOT NULL,
    method              TEXT NOT NULL,
    naming_pattern      TEXT NOT NULL,
    initial_count       INTEGER NOT NULL,
    keep_available      INTEGER NOT NULL,
    maximum             INTEGER NOT NULL,
    domain              TEXT NOT NULL DEFAULT '',
    organizational_unit TEXT NOT NULL DEFAULT '',
    join_account        TEXT NOT NULL DEFAULT '',
    preparation         TEXT NOT NULL,
    target_provider_ids TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE clones (
    pool_id     INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    provider_id INTEGER NOT NULL,
    vm_id       TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);
"""

# Issue #4 (templates): what the template rows need beyond migration 1 — the source's name and host
# for display when the provider is unreachable, the preparation (JSON, never the join password), the
# version maintenance started from, each version's checkpoint and size, and each target's copy
# progress and local copy. Template names are unique in any case (ASCII here; the repository also
# compares Unicode case-folded names).
MIGRATION_2 = """
ALTER TABLE templates ADD COLUMN source_vm_name TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN source_host TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN preparation TEXT NOT NULL DEFAULT '{}';
ALTER TABLE templates ADD COLUMN maintenance_from INTEGER;
ALTER TABLE template_versions ADD COLUMN snapshot_id TEXT NOT NULL DEFAULT '';
ALTER TABLE template_versions ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE distribution_targets ADD COLUMN fraction REAL NOT NULL DEFAULT 0;
ALTER TABLE distribution_targets ADD COLUMN vm_id TEXT NOT NULL DEFAULT '';
ALTER TABLE distribution_targets ADD COLUMN folder TEXT NOT NULL DEFAULT '';
ALTER TABLE distribution_targets ADD COLUMN updated TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX templates_name_nocase ON templates(name COLLATE NOCASE);
CREATE INDEX pools_template ON pools(template_id);
"""

# Issue #5 (pools): what a pool row needs beyond migration 1 (description, enabled, the tag it follows,
# the delete-after time, the cap per host, the preparation override as JSON without any password,
# created), each clone's host, method, timings, user, error, request id and folder, and the version
# history of every pool. Pool names are unique in any case (ASCII here; the repository also compares
# Unicode case-folded names).
MIGRATION_3 = """
ALTER TABLE pools ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE pools ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pools ADD COLUMN follow_tag TEXT NOT NULL DEFAULT '';
ALTER TABLE pools ADD COLUMN delete_unused_after_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN per_host_cap INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pools ADD COLUMN preparation_override TEXT;
ALTER TABLE pools ADD COLUMN created TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN method TEXT NOT NULL DEFAULT 'linked';
ALTER TABLE clones ADD COLUMN created TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN usable_seconds REAL;
ALTER TABLE clones ADD COLUMN independent_seconds REAL;
ALTER TABLE clones ADD COLUMN assigned_user TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clones ADD COLUMN folder TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX pools_name_nocase ON pools(name COLLATE NOCASE);
CREATE TABLE pool_versions (
    pool_id  INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    changed  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    task_id  INTEGER,
    PRIMARY KEY (pool_id, seq)
);
"""

# Copy retention: a distribution target keeps its copy of an older version while pools need it (their
# linked clones' parent disks, a rollback). The kept copies per target, as JSON
# {"<version>": {"folder": "D:\\...\\VDI-Templates\\Gold-v1", "vm_id": "..."}}.
MIGRATION_4 = """
ALTER TABLE distribution_targets ADD COLUMN kept TEXT NOT NULL DEFAULT '{}';
"""

#: index i holds the script that moves the schema from version i to i + 1
MIGRATIONS: list[str] = [MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4]

SCHEMA_VERSION = len(MIGRATIONS)
