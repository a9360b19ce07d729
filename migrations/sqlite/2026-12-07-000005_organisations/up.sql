-- Signed-in access (access.md): the housing organisations of organisations.csv, and the
-- municipalities' CVR numbers; a caller's CVR is one of them.
CREATE TABLE organisations (
    dataset_version BIGINT NOT NULL REFERENCES datasets (version) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    cvr TEXT NOT NULL CHECK (length(cvr) = 8 AND cvr NOT GLOB '*[^0-9]*'),
    PRIMARY KEY (dataset_version, organisation_id),
    UNIQUE (dataset_version, cvr)
);
ALTER TABLE municipalities ADD COLUMN cvr TEXT CHECK (length(cvr) = 8 AND cvr NOT GLOB '*[^0-9]*');
