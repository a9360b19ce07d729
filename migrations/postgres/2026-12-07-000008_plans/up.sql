-- Coverage (comparisons.md): the plans' grant periods (plans.csv) and the departments each
-- covered in its period (plan_departments.csv).
CREATE TABLE plans (
    dataset_version BIGINT NOT NULL,
    plan_id TEXT COLLATE "C" NOT NULL CHECK (plan_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    area_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    from_year INTEGER NOT NULL CHECK (from_year BETWEEN 1900 AND 2100),
    to_year INTEGER NOT NULL CHECK (to_year BETWEEN 1900 AND 2100 AND to_year >= from_year),
    PRIMARY KEY (dataset_version, plan_id),
    FOREIGN KEY (dataset_version, area_id) REFERENCES areas (dataset_version, area_id) ON DELETE CASCADE
);
CREATE TABLE plan_departments (
    dataset_version BIGINT NOT NULL,
    plan_id TEXT COLLATE "C" NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (dataset_version, plan_id, department_id),
    FOREIGN KEY (dataset_version, plan_id) REFERENCES plans (dataset_version, plan_id) ON DELETE CASCADE,
    FOREIGN KEY (dataset_version, department_id) REFERENCES departments (dataset_version, department_id) ON DELETE CASCADE
);
