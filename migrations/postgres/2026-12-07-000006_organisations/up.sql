-- Signed-in access (access.md): the housing organisations of organisations.csv, and the
-- municipalities' CVR numbers; a caller's CVR is one of them.
CREATE TABLE organisations (
    dataset_version BIGINT NOT NULL REFERENCES datasets (version) ON DELETE CASCADE,
    organisation_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    cvr TEXT COLLATE "C" NOT NULL CHECK (cvr ~ '^[0-9]{8}$'),
    PRIMARY KEY (dataset_version, organisation_id),
    UNIQUE (dataset_version, cvr)
);
ALTER TABLE municipalities ADD COLUMN cvr TEXT COLLATE "C" CHECK (cvr ~ '^[0-9]{8}$');
