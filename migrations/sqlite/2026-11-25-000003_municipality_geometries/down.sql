DROP TABLE municipality_geometries;
