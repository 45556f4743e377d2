-- Undo 0560_replay_lag: the function, and the owner's membership in pg_read_all_stats (when it
-- was granted and the migrating role may take it back).
SET ROLE ops_owner;
DROP FUNCTION ops_internal.replay_lag();
RESET ROLE;

DO $revoke$
BEGIN
    IF pg_has_role('ops_owner', 'pg_read_all_stats', 'MEMBER')
       AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
            OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE WITH ADMIN OPTION')) THEN
        REVOKE pg_read_all_stats FROM ops_owner;
    END IF;
END
$revoke$;
