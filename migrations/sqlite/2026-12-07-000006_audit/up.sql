-- Every /v1/me request, granted or denied (access.md, "Audit"). One table for every instance.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    sub TEXT,
    cvr TEXT,
    client_id TEXT,
    jti TEXT,
    route TEXT NOT NULL,
    departments TEXT NOT NULL,
    dataset_version BIGINT,
    status INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
