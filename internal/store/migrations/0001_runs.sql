-- Runs: one recorded lint, build, test or upstream check of one package.
-- Times are microseconds since the Unix epoch (UTC), the same in SQLite and
-- PostgreSQL; figures are a JSON object of numbers.
CREATE TABLE runs (
    id {{id}},
    app TEXT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL DEFAULT '',
    started BIGINT NOT NULL,
    finished BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    figures TEXT NOT NULL DEFAULT '{}',
    log TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_app_kind_finished ON runs (app, kind, finished);
CREATE INDEX runs_finished ON runs (finished);
-- Steps: the ordered parts of a run.
CREATE TABLE steps (
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration_us BIGINT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);
