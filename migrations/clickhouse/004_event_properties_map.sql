-- Each event's top-level properties as raw JSON text by key, split once at insert. A catalogue metric that filters
-- on or sums a property reads this column's keys and values instead of parsing every event's document at query
-- time, which was most of a property metric's cost (README → Benchmarks, report with catalogue metrics). Values
-- are the same text JSONExtractRaw returns (a string keeps its quotes; a duplicate key keeps its first value).
ALTER TABLE events ADD COLUMN IF NOT EXISTS properties_map Map(String, String) MATERIALIZED CAST(JSONExtractKeysAndValuesRaw(properties), 'Map(String, String)');
-- Events stored before this migration: rewritten in the background (until then they are split when read).
ALTER TABLE events MATERIALIZE COLUMN properties_map
