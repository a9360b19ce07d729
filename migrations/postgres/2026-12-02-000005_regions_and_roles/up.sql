-- The region level of observations.csv (criteria.md's fraction_of_region), and the manifest's
-- criteria_indicators (JSON: role → indicator code).
CREATE TABLE region_observations (
    dataset_version BIGINT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL,
    indicator TEXT COLLATE "C" NOT NULL,
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    numerator DOUBLE PRECISION NOT NULL,
    denominator BIGINT NOT NULL CHECK (denominator > 0),
    PRIMARY KEY (dataset_version, region_code, indicator, year),
    FOREIGN KEY (dataset_version, indicator) REFERENCES indicators (dataset_version, code) ON DELETE CASCADE
);
ALTER TABLE datasets ADD COLUMN criteria_indicators TEXT;
