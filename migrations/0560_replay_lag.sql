-- How far behind its primary this server's data is, in seconds, for read routing and the
-- replication health check: 0 on a primary; on a standby, 0 while its WAL receiver streams and it
-- replayed all it received, else the age of the last transaction it replayed (NULL: none yet).
--
-- "Streaming" needs pg_stat_wal_receiver's status, which PostgreSQL shows only to roles with
-- pg_read_all_stats; the app's roles get this one figure through an owner function instead. The
-- status is what tells a standby cut off from its primary (no receiver, or one still connecting)
-- from one that is up to date with an idle primary: both have replayed all they received.
-- depends: 0540_ledger_text_and_time_checks

GRANT pg_read_all_stats TO ops_owner;

SET ROLE ops_owner;

CREATE FUNCTION ops_internal.replay_lag() RETURNS double precision
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE
            WHEN NOT pg_is_in_recovery() THEN 0::float8
            WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
                 AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
        END
    $$;
REVOKE EXECUTE ON FUNCTION ops_internal.replay_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops_internal.replay_lag() TO ops_app, ops_readonly;
COMMENT ON FUNCTION ops_internal.replay_lag() IS
    'Seconds this server''s data is behind its primary: 0 on a primary or a streaming, caught-up standby.';

RESET ROLE;
