-- reference_observations becomes partitioned by version like department_observations, so
-- that an import attaches a COPY-loaded partition (foreign keys checked in one join each)
-- instead of firing two foreign-key triggers per row. Stored versions move into partitions.
-- (Stored rows wait in a temporary table, so that the new table's constraints get the
-- usual names.)
CREATE TEMPORARY TABLE reference_observations_before_partitioning AS SELECT * FROM reference_observations;
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
) PARTITION BY LIST (dataset_version);
CREATE UNIQUE INDEX reference_observations_key
    ON reference_observations (dataset_version, level, COALESCE(municipality_code, 0), indicator, year);

DO $$
DECLARE v BIGINT;
BEGIN
    FOR v IN SELECT version FROM datasets ORDER BY version LOOP
        EXECUTE format('CREATE TABLE reference_observations_v%s PARTITION OF reference_observations FOR VALUES IN (%s)', v, v);
        INSERT INTO reference_observations SELECT * FROM reference_observations_before_partitioning WHERE dataset_version = v;
    END LOOP;
END $$;
DROP TABLE reference_observations_before_partitioning;

-- The aggregates blob (megabytes) and the geometries (kilobytes each) are stored as they are:
-- compressing them with pglz cost more time at import and at every start than it saved.
ALTER TABLE dataset_aggregates ALTER COLUMN area_sums SET STORAGE EXTERNAL;
ALTER TABLE area_geometries ALTER COLUMN geometry SET STORAGE EXTERNAL;
