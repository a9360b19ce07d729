DROP TABLE plan_departments;
DROP TABLE plans;
