-- One row per assignment of an eligible customer; analysis uses each customer's first exposure.
CREATE TABLE IF NOT EXISTS exposures
(
    experiment_id LowCardinality(String),
    customer_id String,
    arm LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    attributes Map(String, String),
    source LowCardinality(String) DEFAULT 'assign'
)
ENGINE = MergeTree
ORDER BY (experiment_id, customer_id, ts)
