-- name: insert_system_event
-- One system event through the routing view (critical ones go to the 2-year table).
-- row: SystemEvent
INSERT INTO trading.system_events (severity, component, event_type, message, details, "timestamp")
VALUES (%(severity)s, %(component)s, %(event_type)s, %(message)s, %(details)s, COALESCE(%(timestamp)s, now()))
RETURNING id, "timestamp", severity, component, event_type, message, details

-- name: recent_system_events
-- System events since a time, at or above a severity, optionally of one component, newest first.
-- row: SystemEvent
SELECT id, "timestamp", severity, component, event_type, message, details
  FROM trading.system_events
 WHERE "timestamp" >= %(since)s
   AND array_position(ARRAY['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'EMERGENCY'], severity)
       >= array_position(ARRAY['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'EMERGENCY'], %(min_severity)s::text)
   AND (%(component)s::text IS NULL OR component = %(component)s)
 ORDER BY "timestamp" DESC, id DESC
 LIMIT %(limit)s
