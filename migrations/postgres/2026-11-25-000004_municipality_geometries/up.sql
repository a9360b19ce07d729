-- Municipality outlines, when an extract carries them (municipalities.geojson): the
-- municipality layer draws them instead of the hull of the municipality's areas.
CREATE TABLE municipality_geometries (
    dataset_version BIGINT NOT NULL,
    municipality_code INTEGER NOT NULL,
    geometry TEXT NOT NULL,
    PRIMARY KEY (dataset_version, municipality_code),
    FOREIGN KEY (dataset_version, municipality_code) REFERENCES municipalities (dataset_version, code) ON DELETE CASCADE
);
-- stored as they are, as the areas' (pglz would cost more at import than it saves)
ALTER TABLE municipality_geometries ALTER COLUMN geometry SET STORAGE EXTERNAL;
