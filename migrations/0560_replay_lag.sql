-- How far behind its primary this server's data is, in seconds, for read routing and the
-- replication health check: 0 on a primary; on a standby, 0 while its WAL receiver streams and it
-- replayed all it received, else the age of the last transaction it replayed (NULL: none yet).
--
-- The receiver's status is what tells a standby cut off from its primary (no receiver, or one
-- still connecting) from one up to date with an idle primary: both replayed all they received.
-- PostgreSQL shows that status only to roles with pg_read_all_stats, so the figure comes from an
-- owner function and the owner is granted pg_read_all_stats when the migrating role may grant it
-- (a superuser may). When it may not, a WARNING says so and the function, seeing a receiver but
-- not its status, counts it as streaming (a standby with no receiver at all still counts as cut
-- off): GRANT pg_read_all_stats TO ops_owner as a superuser later makes it exact.
-- depends: 0540_ledger_text_and_time_checks

DO $grant$
BEGIN
    GRANT pg_read_all_stats TO ops_owner;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'ops_owner was not granted pg_read_all_stats (% may not grant it): a standby cut off '
                  'from its primary is seen late only once its WAL receiver stops; as a superuser: '
                  'GRANT pg_read_all_stats TO ops_owner', current_user;
END
$grant$;

SET ROLE ops_owner;

CREATE FUNCTION ops_internal.replay_lag() RETURNS double precision
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE
            WHEN NOT pg_is_in_recovery() THEN 0::float8
            WHEN coalesce((SELECT coalesce(status, 'streaming') = 'streaming' FROM pg_stat_wal_receiver), false)
                 AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
        END
    $$;
REVOKE EXECUTE ON FUNCTION ops_internal.replay_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops_internal.replay_lag() TO ops_app, ops_readonly;
COMMENT ON FUNCTION ops_internal.replay_lag() IS
    'Seconds this server''s data is behind its primary: 0 on a primary or a streaming, caught-up standby.';

RESET ROLE;
