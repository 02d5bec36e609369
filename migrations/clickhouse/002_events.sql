-- Outcome events. event_id is the idempotency key: the sorting key (customer_id, event_id) makes
-- ReplacingMergeTree collapse resent copies, and every report reads this table with FINAL so a copy
-- that has not been merged yet is never counted twice.
CREATE TABLE IF NOT EXISTS events
(
    event_id String,
    customer_id String,
    type LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    experiment_id String DEFAULT '',
    arm String DEFAULT '',
    revenue Float64 DEFAULT 0,
    margin Nullable(Float64),
    cost Float64 DEFAULT 0,
    order_id String DEFAULT '',
    properties String DEFAULT '',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, event_id)
