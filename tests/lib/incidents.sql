-- The incidents of a database as comparable text, one line each: every
-- column but the update time (which depends on when the work was done, not
-- on its result; ids come from rule, key and start), with the incident's
-- events by role. Used by the crash tests (sqlite3 DB < incidents.sql) to check that
-- a run killed and restarted ends with the incidents of an uninterrupted one.
-- test_store fails when a column of incidents or episodes is missing here.
SELECT i.id, i.num, i.rule, i.gkey, i.status, i.started_at, i.detected_at, i.acknowledged_at,
       i.mitigated_at, i.resolved_at, i.alerts, i.users_impacted, i.lead, i.services,
       i.suspects, i.during, i.flapping, i.alert_users, i.link_users, i.same_values,
       i.link_basis, i.impact_start, i.ack_kind, i.end_inferred, i.truncated, i.span_end,
       i.person_resolved_at, i.lead_by, i.impact_from,
       (SELECT group_concat(role || ':' || event, ',')
          FROM (SELECT role, event FROM incident_events e WHERE e.incident = i.id
                ORDER BY role, event))
  FROM incidents i
 ORDER BY i.rule, i.gkey, i.started_at;
SELECT rule, gkey, identity, starts_at, ends_at, observed_at, name, service, labels, users,
       incident, truncated, inferred_end
  FROM episodes ORDER BY rule, gkey, identity, starts_at;
