ALTER TABLE dataset_aggregates ALTER COLUMN area_sums SET STORAGE EXTENDED;
ALTER TABLE area_geometries ALTER COLUMN geometry SET STORAGE EXTENDED;

CREATE TEMPORARY TABLE reference_observations_partitioned AS SELECT * FROM reference_observations;
DROP TABLE reference_observations;
CREATE TABLE reference_observations (
    dataset_version BIGINT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('municipality', 'social_housing', 'country')),
    municipality_code INTEGER, -- null for the country
    indicator TEXT COLLATE "C" NOT NULL,
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    numerator DOUBLE PRECISION NOT NULL,
    denominator BIGINT NOT NULL CHECK (denominator > 0),
    CHECK ((level = 'country') = (municipality_code IS NULL)),
    FOREIGN KEY (dataset_version, municipality_code) REFERENCES municipalities (dataset_version, code) ON DELETE CASCADE,
    FOREIGN KEY (dataset_version, indicator) REFERENCES indicators (dataset_version, code) ON DELETE CASCADE
);
INSERT INTO reference_observations SELECT * FROM reference_observations_partitioned;
DROP TABLE reference_observations_partitioned;
CREATE UNIQUE INDEX reference_observations_key
    ON reference_observations (dataset_version, level, COALESCE(municipality_code, 0), indicator, year);
