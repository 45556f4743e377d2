SET ROLE ops_owner;
DELETE FROM ops_internal.retention WHERE hypertable IN
    ('trading.signals', 'ops_internal.system_events_routine', 'ops_internal.system_events_critical');
DROP VIEW trading.system_events;
DROP FUNCTION ops_internal.route_system_event();
DROP TABLE ops_internal.system_events_critical;
DROP TABLE ops_internal.system_events_routine;
DROP SEQUENCE ops_internal.system_events_id_seq;
DROP TABLE trading.signals;
RESET ROLE;
