-- Identifiers (codes, ids, versions) use the "C" collation: they are compared byte for byte,
-- and indexing millions of them is several times faster than with a language collation.

-- One row per imported extract. Every other table is keyed by dataset_version, so a version
-- is written in one transaction and read back whole; exactly one version is active (served).
CREATE TABLE datasets (
    version BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    boundary_version TEXT COLLATE "C" NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    imported_at TEXT NOT NULL, -- RFC 3339, UTC
    active BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX datasets_single_active ON datasets (active) WHERE active;

CREATE TABLE indicators (
    dataset_version BIGINT NOT NULL REFERENCES datasets (version) ON DELETE CASCADE,
    code TEXT COLLATE "C" NOT NULL,
    position INTEGER NOT NULL, -- order in indicators.csv
    name_da TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('share', 'rate', 'mean')),
    direction TEXT NOT NULL CHECK (direction IN ('lower_is_better', 'higher_is_better', 'neutral')),
    population_da TEXT NOT NULL,
    population_en TEXT NOT NULL,
    description_da TEXT,
    description_en TEXT,
    PRIMARY KEY (dataset_version, code),
    UNIQUE (dataset_version, position)
);

CREATE TABLE municipalities (
    dataset_version BIGINT NOT NULL REFERENCES datasets (version) ON DELETE CASCADE,
    code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 999), -- Danmarks Statistik's form, 101
    name TEXT NOT NULL,
    region_code TEXT,
    PRIMARY KEY (dataset_version, code)
);

CREATE TABLE departments (
    dataset_version BIGINT NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL CHECK (length(department_id) BETWEEN 1 AND 64),
    name TEXT NOT NULL,
    municipality_code INTEGER NOT NULL,
    organisation TEXT,
    PRIMARY KEY (dataset_version, department_id),
    FOREIGN KEY (dataset_version, municipality_code) REFERENCES municipalities (dataset_version, code) ON DELETE CASCADE
);

CREATE TABLE areas (
    dataset_version BIGINT NOT NULL,
    area_id TEXT COLLATE "C" NOT NULL CHECK (area_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    position INTEGER NOT NULL, -- order in areas.csv
    name TEXT NOT NULL,
    municipality_code INTEGER NOT NULL,
    PRIMARY KEY (dataset_version, area_id),
    FOREIGN KEY (dataset_version, municipality_code) REFERENCES municipalities (dataset_version, code) ON DELETE CASCADE
);

-- Which departments make up each area, per delimitation; a department is in at most one
-- area per delimitation.
CREATE TABLE area_departments (
    dataset_version BIGINT NOT NULL,
    boundary_version TEXT COLLATE "C" NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL,
    area_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (dataset_version, boundary_version, department_id),
    FOREIGN KEY (dataset_version, area_id) REFERENCES areas (dataset_version, area_id) ON DELETE CASCADE,
    FOREIGN KEY (dataset_version, department_id) REFERENCES departments (dataset_version, department_id) ON DELETE CASCADE
);
CREATE INDEX area_departments_by_area ON area_departments (dataset_version, boundary_version, area_id);

-- The bulk of every version (millions of rows), partitioned by version: an import loads a
-- new partition with COPY, builds its primary key in one sort, and attaches it, which checks
-- the foreign keys with one join instead of a trigger per row. Dropping a version drops its
-- partition.
CREATE TABLE department_observations (
    dataset_version BIGINT NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL,
    indicator TEXT COLLATE "C" NOT NULL,
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    numerator DOUBLE PRECISION NOT NULL,
    denominator BIGINT NOT NULL CHECK (denominator > 0),
    PRIMARY KEY (dataset_version, department_id, indicator, year),
    FOREIGN KEY (dataset_version, department_id) REFERENCES departments (dataset_version, department_id) ON DELETE CASCADE,
    FOREIGN KEY (dataset_version, indicator) REFERENCES indicators (dataset_version, code) ON DELETE CASCADE
) PARTITION BY LIST (dataset_version);

-- The municipality, social_housing and country levels, as delivered.
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
CREATE UNIQUE INDEX reference_observations_key
    ON reference_observations (dataset_version, level, COALESCE(municipality_code, 0), indicator, year);

-- GeoJSON geometry in WGS 84, oriented by RFC 7946's right-hand rule, with its bounding box.
CREATE TABLE area_geometries (
    dataset_version BIGINT NOT NULL,
    area_id TEXT COLLATE "C" NOT NULL,
    geometry TEXT NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (dataset_version, area_id),
    FOREIGN KEY (dataset_version, area_id) REFERENCES areas (dataset_version, area_id) ON DELETE CASCADE
);
