-- Customer features (issue 20) read each customer's purchases, refunds, redemptions and offer sends as of an instant.
-- This table keeps them per customer, filled at insert by the materialised view below, so a profile reads one key
-- and a report's segments read one row per exposed customer instead of their whole event history; keeping it up to
-- date costs work in proportion to the new events, never a rescan (README → Benchmarks, feature refresh).
-- Each event is one tuple (sipHash64 of its id, kind, epoch ms, amount) in a set: a copy of an event that reaches
-- the view twice (a retried insert, or the backfill below overlapping live inserts) is the same tuple and counts once.
-- Kinds: 1 purchase (revenue), 2 refund (revenue), 3 offer_redeemed (cost), 4 offer_sent (0).
CREATE TABLE IF NOT EXISTS customer_history
(
    customer_id String,
    history AggregateFunction(groupUniqArray, Tuple(UInt64, UInt8, Int64, Float64)),
    updated_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY customer_id;
CREATE MATERIALIZED VIEW IF NOT EXISTS customer_history_mv TO customer_history AS
SELECT customer_id,
    groupUniqArrayState((sipHash64(event_id), toUInt8(indexOf(['purchase', 'refund', 'offer_redeemed', 'offer_sent'], type)), toUnixTimestamp64Milli(ts), if(type = 'offer_redeemed', cost, if(type = 'offer_sent', 0, revenue)))) AS history,
    max(ingested_at) AS updated_at
FROM events
WHERE type IN ('purchase', 'refund', 'offer_redeemed', 'offer_sent')
GROUP BY customer_id;
-- Events stored before the view existed.
INSERT INTO customer_history
SELECT customer_id,
    groupUniqArrayState((sipHash64(event_id), toUInt8(indexOf(['purchase', 'refund', 'offer_redeemed', 'offer_sent'], type)), toUnixTimestamp64Milli(ts), if(type = 'offer_redeemed', cost, if(type = 'offer_sent', 0, revenue)))) AS history,
    max(ingested_at) AS updated_at
FROM events FINAL
WHERE type IN ('purchase', 'refund', 'offer_redeemed', 'offer_sent')
GROUP BY customer_id
