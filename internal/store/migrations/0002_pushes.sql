-- Pushes: package images pushed to a registry (cpk push), looked up by app
-- and content hash (cpk deploy). pushed is microseconds since the Unix
-- epoch (UTC); size is the bytes the registry holds for the image.
CREATE TABLE pushes (
    id {{id}},
    app TEXT NOT NULL,
    hash TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    image TEXT NOT NULL DEFAULT '',
    registry TEXT NOT NULL,
    reference TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    pushed BIGINT NOT NULL
);
CREATE INDEX pushes_app_hash_pushed ON pushes (app, hash, pushed);
