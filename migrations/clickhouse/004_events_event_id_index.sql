-- Looking an event up by its id alone (the ingest path asks whether an id it may have seen is stored, and with
-- which payload): the table is sorted by customer, so without this index that read scans every event_id.
-- A bloom filter per granule lets it skip the granules that cannot hold the ids asked for.
ALTER TABLE events ADD INDEX IF NOT EXISTS event_id_bloom event_id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE events MATERIALIZE INDEX event_id_bloom
