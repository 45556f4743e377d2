-- Undo 0560_replay_lag: the function, and the owner's membership in pg_read_all_stats (when it
-- was granted and the migrating role may take it back).
SET ROLE ops_owner;
DROP FUNCTION ops_internal.replay_lag();
RESET ROLE;

DO $revoke$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_auth_members
                WHERE roleid = 'pg_read_all_stats'::regrole AND member = 'ops_owner'::regrole) THEN
        REVOKE pg_read_all_stats FROM ops_owner;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'pg_read_all_stats stays granted to ops_owner (% may not revoke it)', current_user;
END
$revoke$;
