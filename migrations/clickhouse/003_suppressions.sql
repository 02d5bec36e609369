-- Customers a pacing, cooldown or budget rule kept out of an experiment at decision time: never enrolled,
-- counted per experiment and reason in its report.
CREATE TABLE IF NOT EXISTS suppressions
(
    experiment_id LowCardinality(String),
    customer_id String,
    reason LowCardinality(String),
    trigger_key LowCardinality(String),
    tier LowCardinality(String),
    ts DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (experiment_id, reason, ts)
