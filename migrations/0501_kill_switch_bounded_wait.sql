-- A halt waits for the transactions that staged, approved or submitted under the old state
-- (they hold the state row FOR SHARE until they end). A client that keeps such a transaction
-- open would make a halt wait for ever; the wait is bounded instead: after 10 s the halt fails
-- with lock_not_available, nothing changed, and `ops-db kill-switch on` names the sessions in
-- the way (and ends them with --terminate-blockers).
-- depends: 0500_ledger_promises
SET ROLE ops_owner;
ALTER FUNCTION trading.set_kill_switch(boolean, text, text) SET lock_timeout = '10s';
RESET ROLE;
