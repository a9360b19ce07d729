DROP TABLE dataset_aggregates;
