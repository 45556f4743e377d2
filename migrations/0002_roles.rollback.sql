-- Roles are shared by every database of the cluster: drop each only when nothing
-- (in any database) still depends on it.
DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['ops_readonly', 'ops_app', 'ops_owner'] LOOP
        BEGIN
            EXECUTE format('DROP ROLE IF EXISTS %I', role_name);
        EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
            RAISE NOTICE 'role % kept: still used elsewhere in the cluster', role_name;
        END;
    END LOOP;
END
$roles$;
