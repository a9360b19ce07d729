ALTER TABLE municipalities DROP COLUMN cvr;
DROP TABLE organisations;
