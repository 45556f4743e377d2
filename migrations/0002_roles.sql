-- Roles (cluster-wide, so created only when missing):
--   ops_owner     owns the schemas and runs migrations. LOGIN because TimescaleDB runs
--                 background jobs as the hypertable owner and requires it; it has no
--                 password, so nobody logs in as it until an operator gives it one.
--   ops_app       the trading application: reads and writes data, no DDL.
--   ops_readonly  analysts in psql: reads only.
-- Login users join them: CREATE ROLE trader LOGIN PASSWORD '...' IN ROLE ops_app;
-- depends: 0001_timescaledb
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_owner') THEN
        CREATE ROLE ops_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_app') THEN
        CREATE ROLE ops_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_readonly') THEN
        CREATE ROLE ops_readonly NOLOGIN;
    END IF;
END
$roles$;
