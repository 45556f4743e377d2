SET ROLE ops_owner;
ALTER FUNCTION trading.set_kill_switch(boolean, text, text) RESET lock_timeout;
RESET ROLE;
