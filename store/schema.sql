-- schema.sql - the current schema of an aftermath database, in one place.
--
-- This file is documentation that cannot drift: test_store applies it to
-- an empty database and compares every table, column (name, type, NOT
-- NULL, default, key), index and uniqueness with what the migrations of
-- store/store.c build. A database is only ever changed by those
-- migrations, one transaction each, in order (schema_version holds how many
-- ran; STORE_SCHEMA_VERSION, their count, is checked at compile time). To
-- change the schema: append a migration, bump STORE_SCHEMA_VERSION, change
-- this file, and (for incidents and episodes) tests/lib/incidents.sql,
-- which test_store checks too.
--
-- Each table has one owner, the only module whose code names it in SQL.
-- Others go through the owner's functions (store/store.h,
-- correlate/incident.h, correlate/replica.h, ...) or the owner's named
-- statements (correlate/queries.h for what report/ and run/ read).
-- Times are UTC milliseconds since the epoch; NULL is "unknown".

-- ===========================================================================
-- Owner: store/ (store/store.c)
-- ===========================================================================

-- How many migrations have run (one row).
CREATE TABLE schema_version (version INTEGER NOT NULL);

-- One row per consumed record that decoded to at least one event: where it
-- came from and, unless keep_raw is off, its bytes (audit, re-decoding).
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,
  place TEXT NOT NULL,            -- "topic/partition/offset" or "file:line"
  topic TEXT, partition INTEGER, "offset" INTEGER,
  ts INTEGER,                     -- the Kafka record timestamp
  key BLOB, headers TEXT,         -- headers as JSON
  raw BLOB
);

-- The normalised events (DESIGN.md "The normalised event"), idempotent on
-- their dedup id: a re-delivery only moves observed_at earlier.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,        -- dedup key
  kind TEXT NOT NULL,             -- alert, deploy, ack, note, correction, action
  status TEXT,
  source TEXT NOT NULL,           -- the decoder that made it
  name TEXT,
  identity TEXT,                  -- an alert's identity: hash of its sorted labels
  service TEXT, environment TEXT, severity TEXT,
  labels TEXT NOT NULL, annotations TEXT NOT NULL,  -- JSON objects, sorted keys
  summary TEXT,
  starts_at INTEGER, ends_at INTEGER,
  observed_at INTEGER,            -- earliest record timestamp it was delivered with
  actor TEXT, version TEXT, url TEXT,
  record_seq INTEGER REFERENCES records(seq),
  last_observed_at INTEGER,       -- latest record timestamp it was delivered with
  first_place TEXT,               -- the record it first came from (an unconfirmed end is
                                  -- confirmed only by another record)
  confirmed INTEGER               -- 1 once such an end was repeated by another record
);
CREATE INDEX events_by_record ON events (record_seq);
CREATE INDEX events_by_kind_time ON events (kind, starts_at);
CREATE INDEX events_by_identity ON events (identity, kind, starts_at);

-- Records refused by a decoder or a limit, with the reason; once per place
-- and content.
CREATE TABLE rejected (
  seq INTEGER PRIMARY KEY,
  place TEXT NOT NULL,
  topic TEXT, partition INTEGER, "offset" INTEGER,
  reason TEXT NOT NULL,
  raw BLOB,                       -- the first STORE_REJECTED_RAW_MAX bytes
  raw_len INTEGER NOT NULL, raw_hash TEXT NOT NULL,
  rejected_at INTEGER NOT NULL,
  UNIQUE (place, raw_hash)
);

-- The next Kafka offset per partition, written in the same transaction as
-- the events it produced: the source of truth for where to resume.
CREATE TABLE offsets (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

-- Pages (common/event.h "page"): alert identities notified under a group
-- key whose SHA-256 is key (Alertmanager's PagerDuty dedup_key), from every
-- delivery, duplicates included; and PagerDuty's incident ids (alias) of
-- such keys. correlate/engine.c joins PagerDuty events by them.
CREATE TABLE pages (
  key TEXT NOT NULL, identity TEXT NOT NULL,
  PRIMARY KEY (key, identity)
) WITHOUT ROWID;
CREATE INDEX pages_by_identity ON pages (identity);
CREATE TABLE page_aliases (
  alias TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (alias, key)
) WITHOUT ROWID;

-- ===========================================================================
-- Owner: correlate/ (correlate/engine.c writes; incident.c, replica.c,
-- prune.c and queries.c read or write through the engine's conventions)
-- ===========================================================================

-- The correlator's own settings: the keyed partition count a store was
-- built for, the prune horizon ('pruned_before'), ...
CREATE TABLE corr_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- Per rule and group key, each firing interval of one alert identity.
CREATE TABLE episodes (
  seq INTEGER PRIMARY KEY,
  rule TEXT NOT NULL, gkey TEXT NOT NULL,  -- gkey: the group key as JSON
  identity TEXT NOT NULL,
  starts_at INTEGER NOT NULL, ends_at INTEGER,  -- ends_at NULL: still firing
  observed_at INTEGER,            -- earliest delivery
  name TEXT, service TEXT, labels TEXT NOT NULL,
  users INTEGER,                  -- users impacted this alert reports
  incident TEXT,                  -- the incident it belongs to
  last_seen INTEGER,              -- latest delivery
  stale_at INTEGER,               -- when it goes stale on its topic's clock (stale_after)
  topic TEXT,                     -- the topic whose clock judges it
  truncated INTEGER,              -- a truncated notification of its group refreshed it
  trunc_stale_at INTEGER, trunc_seen INTEGER, trunc_topic TEXT,
  tent_end INTEGER,               -- an unconfirmed end (API v2 raw lines) not yet confirmed
  inferred_end INTEGER,           -- the end inferred without a resolve; ends_at stays the
                                  -- resolves' own
  UNIQUE (rule, gkey, identity, starts_at)
);
CREATE INDEX episodes_by_key ON episodes (rule, gkey, starts_at);
CREATE INDEX episodes_by_incident ON episodes (incident);
CREATE INDEX episodes_by_identity ON episodes (identity);
CREATE INDEX episodes_stale ON episodes (topic, stale_at) WHERE ends_at IS NULL;
CREATE INDEX episodes_trunc ON episodes (rule, gkey, trunc_seen) WHERE trunc_seen IS NOT NULL;

-- The incidents and their derived timestamps (DESIGN.md "Incident
-- timestamps"); ids are INC-<day>-<hash of rule, key and start>.
CREATE TABLE "incidents" (
  id TEXT PRIMARY KEY,
  num INTEGER NOT NULL,           -- the id's hash
  rule TEXT NOT NULL, gkey TEXT NOT NULL,
  status TEXT NOT NULL,           -- open, resolved
  started_at INTEGER NOT NULL, detected_at INTEGER, acknowledged_at INTEGER,
  mitigated_at INTEGER, resolved_at INTEGER,
  alerts INTEGER NOT NULL,
  users_impacted INTEGER,
  lead TEXT,
  services TEXT NOT NULL, suspects TEXT NOT NULL, during TEXT NOT NULL,
  flapping TEXT NOT NULL,         -- JSON arrays
  updated_at INTEGER NOT NULL,    -- wall clock of the last change
  alert_users INTEGER,            -- users impacted from the alerts alone
  link_users INTEGER,             -- ... from linked acks and notes
  same_values TEXT NOT NULL DEFAULT '[]',  -- the alerts' values of deploys.same labels
  link_basis TEXT,                -- what links were computed against
  impact_start INTEGER,           -- impact_start: deploy or pending moved the start here
  ack_kind TEXT,                  -- what acknowledged: ack, deploy, NULL
  end_inferred INTEGER,           -- 1 when the mitigation rests on an inferred end
  truncated INTEGER,              -- alerts its notifications left out (truncatedAlerts)
  span_end INTEGER,               -- resolved_at as derived (mitigation + quiet): what
                                  -- events are joined against
  person_resolved_at INTEGER,     -- a person's resolve of its PagerDuty page; resolved_at
                                  -- when at or after mitigated_at
  lead_by TEXT,                   -- where lead comes from: ack (the first acknowledger),
                                  -- reassign (PagerDuty's latest assignee), NULL
  impact_from TEXT                -- what set impact_start: deploy (a suspect), pending
                                  -- (the rule's pending), NULL when it is unset
);
CREATE INDEX incidents_by_key ON incidents (rule, gkey, started_at);
CREATE INDEX incidents_by_rule ON incidents (rule, started_at);

-- Events linked to an incident, by role: alert, suspect, during, ack, note.
CREATE TABLE incident_events (
  incident TEXT NOT NULL, event TEXT NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY (incident, event, role)
) WITHOUT ROWID;
CREATE INDEX incident_events_by_event ON incident_events (event);

-- Ids an incident had before (a rename after an earlier alert, a merge).
CREATE TABLE incident_aliases (
  alias TEXT PRIMARY KEY, incident TEXT NOT NULL
) WITHOUT ROWID;

-- Incidents changed by a committed batch whose change is not yet delivered
-- (incidents topic, drafts); emptied after delivery.
CREATE TABLE outbox (incident TEXT PRIMARY KEY) WITHOUT ROWID;

-- ===========================================================================
-- Owner: correlate/ (correlate/people.c: the people's record, recomputed in
-- every flush from the stored correction and action events, so it is a
-- function of the stored events like the incidents; readers go through
-- correlate/incident.h and correlate/queries.h)
-- ===========================================================================

-- Per incident, the corrections in effect (DESIGN.md "People's corrections
-- and follow-ups"): per field the latest by (at, event id). NULL: not
-- corrected, the derived value stands.
CREATE TABLE incident_overlay (
  incident TEXT PRIMARY KEY,
  title TEXT, severity TEXT, lead TEXT,
  roles TEXT NOT NULL,            -- JSON {role: person}
  started_at INTEGER, detected_at INTEGER, acknowledged_at INTEGER,
  mitigated_at INTEGER, resolved_at INTEGER,
  users_impacted INTEGER,
  dismissed TEXT,                 -- the reason it is not an incident
  merged_into TEXT,               -- the incident it was merged into by hand
  verdicts TEXT NOT NULL,         -- JSON {"NAME@VERSION": "confirmed"|"rejected"}
  corrections TEXT NOT NULL       -- JSON {field: {value, actor, at, reason, event}}
) WITHOUT ROWID;

-- Action items, per incident and item: each field the latest action
-- event's; opened at the first, closed at the latest that set done.
CREATE TABLE action_items (
  incident TEXT NOT NULL, item TEXT NOT NULL,
  task TEXT, owner TEXT,
  due INTEGER,
  status TEXT NOT NULL,            -- open, done
  url TEXT,
  opened_at INTEGER NOT NULL, closed_at INTEGER,
  actor TEXT, at INTEGER NOT NULL, -- who wrote the latest event, and when
  PRIMARY KEY (incident, item)
) WITHOUT ROWID;

-- Corrections and actions whose incident is nowhere (not an incident, not
-- an alias, and no incident holds the alerts of their `about`): kept, and
-- listed by `aftermath status`.
CREATE TABLE people_unattached (
  event TEXT PRIMARY KEY, kind TEXT NOT NULL,
  incident TEXT NOT NULL,         -- the id it names
  at INTEGER NOT NULL, actor TEXT
) WITHOUT ROWID;

-- The alert identities named by any correction's `about`: an incident
-- holding one of them makes the correlator recompute the people's record.
CREATE TABLE people_about (identity TEXT PRIMARY KEY) WITHOUT ROWID;

-- Not built by the migrations (so not compared by test_store): a view's
-- database also holds three tables that correlate/replica.c makes on the
-- first incidents-topic document, with CREATE TABLE IF NOT EXISTS, and a
-- correlator's connection two TEMP tables of what it published (see
-- replica.c, "publishing in parts" and "applying parts", and
-- docs/scaling.md, "Incident documents"):
--   replica_parts (key, incident, as_of, state, locator, body): the latest
--     part of each key a view received, applied or waiting for its summary;
--   replica_heads (incident, as_of, base, summary): each incident's latest
--     summary's as_of and base (fencing), and a summary waiting for parts.
--   replica_waits (incident, since): since when (wall ms) each incident's
--     summary has waited for parts; corr_meta 'view_stale_documents' counts
--     the documents the view dropped as stale.
-- The TEMP tables: replica_sent (key, incident, hash, as_of, seen) and
-- replica_based (incident, base, snap_at, pub_at, dirty, resolved): the
-- snapshot each incident's publications build on, aged by
-- corr_replica_sweep (docs/scaling.md, "Bounded waits").
