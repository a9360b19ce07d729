ALTER TABLE datasets DROP COLUMN criteria_indicators;
DROP TABLE region_observations;
