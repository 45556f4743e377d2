-- Schema `trading` holds everything users query; `ops_internal` holds package internals.
-- Default privileges give every object ops_owner creates later its grants, so no
-- migration has to repeat them. Migrations create objects after `SET ROLE ops_owner`.
-- depends: 0002_roles
CREATE SCHEMA trading AUTHORIZATION ops_owner;
CREATE SCHEMA ops_internal AUTHORIZATION ops_owner;

GRANT USAGE ON SCHEMA trading TO ops_app, ops_readonly;
GRANT USAGE ON SCHEMA ops_internal TO ops_app, ops_readonly;

ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ops_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading
    GRANT SELECT ON TABLES TO ops_readonly;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading
    GRANT USAGE, SELECT ON SEQUENCES TO ops_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading
    GRANT SELECT ON SEQUENCES TO ops_readonly;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA ops_internal
    GRANT SELECT ON TABLES TO ops_app, ops_readonly;

SET ROLE ops_owner;

-- The one place that says which TimescaleDB edition runs; migrations branch on it.
CREATE FUNCTION ops_internal.timescaledb_edition() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN current_setting('timescaledb.license', true) = 'timescale'
                    THEN 'timescale' ELSE 'apache' END
    $$;
COMMENT ON FUNCTION ops_internal.timescaledb_edition() IS
    'timescale when the TSL features (continuous aggregates, columnstore, jobs) are on, else apache';

RESET ROLE;
