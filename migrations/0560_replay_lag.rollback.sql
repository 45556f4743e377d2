-- Undo 0560_replay_lag: the function, and the owner's membership in pg_read_all_stats.
SET ROLE ops_owner;
DROP FUNCTION ops_internal.replay_lag();
RESET ROLE;

REVOKE pg_read_all_stats FROM ops_owner;
