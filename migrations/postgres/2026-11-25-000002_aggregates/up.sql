-- Per version, what the snapshot would otherwise aggregate from millions of rows at every
-- start: the areas' sums (src/store/aggregates.rs), written in the import's transaction.
CREATE TABLE dataset_aggregates (
    dataset_version BIGINT PRIMARY KEY REFERENCES datasets (version) ON DELETE CASCADE,
    area_sums BYTEA NOT NULL
);
