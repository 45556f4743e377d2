-- Queries of `ops-db verify`'s catalog comparison (ops_db.ops.drift). Each catalog query returns
-- one row per object of schemas trading and ops_internal: a kind, a name that does not depend on
-- OIDs, the relation it belongs to (parent, so that the objects of a missing table are not listed
-- one by one) and its attributes as jsonb. ACLs come as aclitem text (with the default ACL when
-- the catalog holds NULL); Python turns them into per-role privileges. Extension members
-- (TimescaleDB's own objects) are left out: they are the extension's, not the migrations'.

-- name: drift_session
-- The snapshot transaction: read only, names printed schema-qualified, bounded waits.
SET TRANSACTION READ ONLY;
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '120s'

-- name: drift_schemas
-- The two schemas: owner and privileges.
-- row: CatalogRow
SELECT 'schema' AS kind, quote_ident(n.nspname) AS name, NULL::text AS parent,
       jsonb_build_object('owner', pg_get_userbyid(n.nspowner),
                          'acl', coalesce(n.nspacl, acldefault('n', n.nspowner))::text[]) AS attrs
  FROM pg_namespace n
 WHERE n.nspname IN ('trading', 'ops_internal')

-- name: drift_relations
-- Tables, views, materialized views, sequences: owner, options, row security, view definition,
-- privileges, sequence parameters, and how many internal (foreign key) triggers are disabled.
-- row: CatalogRow
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                      WHEN 'c' THEN 'composite type' END AS kind,
       format('%I.%I', n.nspname, c.relname) AS name, NULL::text AS parent,
       jsonb_build_object(
           'owner', pg_get_userbyid(c.relowner),
           'persistence', CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'logged' END,
           'options', array_to_string(ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o), ', '),
           'row security', CASE WHEN c.relforcerowsecurity THEN 'forced'
                                WHEN c.relrowsecurity THEN 'enabled' ELSE 'off' END,
           'definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
           'sequence', (SELECT format('%s start %s increment %s min %s max %s cache %s%s',
                                      format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
                                      s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
                          FROM pg_sequence s WHERE s.seqrelid = c.oid),
           'disabled internal triggers', (SELECT count(*) FROM pg_trigger t
                                           WHERE t.tgrelid = c.oid AND t.tgisinternal AND t.tgenabled = 'D'),
           'acl', CASE WHEN c.relkind <> 'c' THEN
                      coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))::text[]
                  END) AS attrs
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')

-- name: drift_columns
-- Columns of those relations: type, not null, default (or generation expression), identity,
-- collation when not the type's, column privileges.
-- row: CatalogRow
SELECT 'column' AS kind, format('%I.%I.%I', n.nspname, c.relname, a.attname) AS name,
       format('%I.%I', n.nspname, c.relname) AS parent,
       jsonb_build_object(
           'type', format_type(a.atttypid, a.atttypmod),
           'not null', a.attnotnull,
           'default', pg_get_expr(d.adbin, d.adrelid),
           'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
           'generated', CASE a.attgenerated WHEN 's' THEN 'stored' END,
           'collation', CASE WHEN a.attcollation <> t.typcollation THEN (SELECT collname FROM pg_collation
                                                                           WHERE oid = a.attcollation) END,
           'acl', coalesce(a.attacl, '{}')::text[]) AS attrs
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
   AND a.attnum > 0 AND NOT a.attisdropped
   AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')

-- name: drift_constraints
-- Table and domain constraints, by their definition (which says NOT VALID and DEFERRABLE).
-- row: CatalogRow
SELECT 'constraint' AS kind,
       format('%I.%I.%I', n.nspname, coalesce(cl.relname, ty.typname), co.conname) AS name,
       format('%I.%I', n.nspname, coalesce(cl.relname, ty.typname)) AS parent,
       jsonb_build_object('definition', pg_get_constraintdef(co.oid), 'validated', co.convalidated) AS attrs
  FROM pg_constraint co
  JOIN pg_namespace n ON n.oid = co.connamespace
  LEFT JOIN pg_class cl ON cl.oid = co.conrelid
  LEFT JOIN pg_type ty ON ty.oid = co.contypid
 WHERE n.nspname IN ('trading', 'ops_internal')

-- name: drift_indexes
-- Indexes by definition, and whether they are valid and ready (a failed CREATE INDEX
-- CONCURRENTLY leaves an invalid one).
-- row: CatalogRow
SELECT 'index' AS kind, format('%I.%I', n.nspname, ic.relname) AS name,
       format('%I.%I', tn.nspname, tc.relname) AS parent,
       jsonb_build_object('definition', pg_get_indexdef(i.indexrelid), 'valid', i.indisvalid,
                          'ready', i.indisready) AS attrs
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = tc.oid AND d.deptype = 'e')

-- name: drift_triggers
-- User triggers by definition, and whether they fire (ALTER TABLE ... DISABLE TRIGGER).
-- row: CatalogRow
SELECT 'trigger' AS kind, format('%I.%I.%I', n.nspname, c.relname, t.tgname) AS name,
       format('%I.%I', n.nspname, c.relname) AS parent,
       jsonb_build_object('definition', pg_get_triggerdef(t.oid),
                          'state', CASE t.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                                      WHEN 'R' THEN 'replica only' WHEN 'A' THEN 'always' END) AS attrs
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND NOT t.tgisinternal

-- name: drift_functions
-- Functions, procedures and aggregates: the body (prosrc), signature, security definer, SET
-- options, volatility and the rest of the header, owner and EXECUTE privileges.
-- row: CatalogRow
SELECT CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      WHEN 'w' THEN 'window function' END AS kind,
       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
       NULL::text AS parent,
       jsonb_build_object(
           'owner', pg_get_userbyid(p.proowner),
           'returns', pg_get_function_result(p.oid),
           'arguments', pg_get_function_arguments(p.oid),
           'language', l.lanname,
           'security definer', p.prosecdef,
           'settings', array_to_string(p.proconfig, ', '),
           'volatility', CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,
           'strict', p.proisstrict,
           'leakproof', p.proleakproof,
           'parallel', CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END,
           'cost', p.procost,
           'rows', p.prorows,
           'body', CASE WHEN p.prokind = 'a' THEN
                       (SELECT format('sfunc %s stype %s finalfunc %s initcond %s', ag.aggtransfn,
                                      format_type(ag.aggtranstype, NULL), ag.aggfinalfn, ag.agginitval)
                          FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid)
                   ELSE coalesce(pg_get_function_sqlbody(p.oid), p.prosrc) END,
           'acl', coalesce(p.proacl, acldefault('f', p.proowner))::text[]) AS attrs
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')

-- name: drift_policies
-- Row security policies.
-- row: CatalogRow
SELECT 'row security policy' AS kind, format('%I.%I.%I', n.nspname, c.relname, pol.polname) AS name,
       format('%I.%I', n.nspname, c.relname) AS parent,
       jsonb_build_object(
           'command', CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                      WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
           'permissive', pol.polpermissive,
           'roles', array_to_string(ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END
                                            FROM unnest(pol.polroles) r ORDER BY 1), ', '),
           'using', pg_get_expr(pol.polqual, pol.polrelid),
           'with check', pg_get_expr(pol.polwithcheck, pol.polrelid)) AS attrs
  FROM pg_policy pol
  JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('trading', 'ops_internal')

-- name: drift_types
-- Enums, domains, ranges and base types (composite types are relations, above).
-- row: CatalogRow
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type'
                      ELSE 'base type' END AS kind,
       format('%I.%I', n.nspname, t.typname) AS name, NULL::text AS parent,
       jsonb_build_object(
           'owner', pg_get_userbyid(t.typowner),
           'labels', CASE WHEN t.typtype = 'e' THEN
                         array_to_string(ARRAY(SELECT e.enumlabel FROM pg_enum e
                                                WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ', ') END,
           'base type', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
           'not null', t.typnotnull,
           'default', t.typdefault,
           'acl', coalesce(t.typacl, acldefault('T', t.typowner))::text[]) AS attrs
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND t.typtype IN ('b', 'd', 'e', 'r')
   AND t.typcategory <> 'A'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')

-- name: drift_default_privileges
-- ALTER DEFAULT PRIVILEGES in the two schemas, and those of any role for all schemas.
-- row: CatalogRow
SELECT 'default privileges' AS kind,
       format('of %s in %s on %s', pg_get_userbyid(d.defaclrole),
              coalesce('schema ' || quote_ident(n.nspname), 'every schema'),
              CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                   WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END) AS name,
       NULL::text AS parent,
       jsonb_build_object('acl', d.defaclacl::text[]) AS attrs
  FROM pg_default_acl d
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
 WHERE n.nspname IN ('trading', 'ops_internal') OR d.defaclnamespace = 0

-- name: drift_extensions
-- Extensions the migrations create (plpgsql comes with every database).
-- row: CatalogRow
SELECT 'extension' AS kind, quote_ident(e.extname) AS name, NULL::text AS parent,
       jsonb_build_object('version', e.extversion, 'schema', n.nspname) AS attrs
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname <> 'plpgsql'

-- name: drift_has_timescaledb
-- Whether the TimescaleDB catalog views can be read.
SELECT to_regclass('timescaledb_information.dimensions') IS NOT NULL AS found

-- name: drift_hypertables
-- Hypertables: how many dimensions, compression on or off.
-- row: CatalogRow
SELECT 'hypertable' AS kind, format('%I.%I', h.hypertable_schema, h.hypertable_name) AS name,
       format('%I.%I', h.hypertable_schema, h.hypertable_name) AS parent,
       jsonb_build_object('dimensions', h.num_dimensions, 'compression', h.compression_enabled) AS attrs
  FROM timescaledb_information.hypertables h
 WHERE h.hypertable_schema IN ('trading', 'ops_internal')

-- name: drift_dimensions
-- Each dimension of a hypertable: column, chunk interval or partitions.
-- row: CatalogRow
SELECT 'hypertable dimension' AS kind,
       format('%I.%I(%I)', d.hypertable_schema, d.hypertable_name, d.column_name) AS name,
       format('%I.%I', d.hypertable_schema, d.hypertable_name) AS parent,
       jsonb_build_object('number', d.dimension_number, 'type', d.dimension_type,
                          'chunk interval', coalesce(d.time_interval::text, d.integer_interval::text),
                          'partitions', d.num_partitions, 'integer now function', d.integer_now_func) AS attrs
  FROM timescaledb_information.dimensions d
 WHERE d.hypertable_schema IN ('trading', 'ops_internal')

-- name: drift_compression
-- Columnstore (compression) settings: segment by, order by. A continuous aggregate's are those of
-- its materialization hypertable, named here by the aggregate.
-- row: CatalogRow
SELECT 'compression settings' AS kind, coalesce(quote_ident(a.view_schema) || '.' || quote_ident(a.view_name), s.hypertable::text) AS name,
       coalesce(quote_ident(a.view_schema) || '.' || quote_ident(a.view_name), s.hypertable::text) AS parent,
       jsonb_build_object('segment by', s.segmentby, 'order by', s.orderby) AS attrs
  FROM timescaledb_information.hypertable_compression_settings s
  JOIN pg_class c ON c.oid = s.hypertable
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN timescaledb_information.continuous_aggregates a
         ON a.materialization_hypertable_schema = n.nspname AND a.materialization_hypertable_name = c.relname
 WHERE n.nspname IN ('trading', 'ops_internal') OR a.view_schema IN ('trading', 'ops_internal')

-- name: drift_continuous_aggregates
-- Continuous aggregates (their view definition is compared with the views).
-- row: CatalogRow
SELECT 'continuous aggregate' AS kind, format('%I.%I', a.view_schema, a.view_name) AS name,
       format('%I.%I', a.view_schema, a.view_name) AS parent,
       jsonb_build_object('materialized only', a.materialized_only, 'compression', a.compression_enabled,
                          'owner', a.view_owner) AS attrs
  FROM timescaledb_information.continuous_aggregates a
 WHERE a.view_schema IN ('trading', 'ops_internal')

-- name: drift_jobs
-- Policies and other jobs (ids from 1000: TimescaleDB's own jobs are below), without their ids,
-- the hypertable ids in their config, or when they run next. A continuous aggregate's policies
-- run on its materialization hypertable: they are named by the aggregate.
-- row: CatalogRow
SELECT 'job' AS kind, format('%s.%s on %s', j.proc_schema, j.proc_name, coalesce(t.target, 'no hypertable')) AS name,
       t.target AS parent,
       jsonb_build_object('schedule interval', j.schedule_interval::text, 'max runtime', j.max_runtime::text,
                          'max retries', j.max_retries, 'retry period', j.retry_period::text,
                          'scheduled', j.scheduled, 'fixed schedule', j.fixed_schedule,
                          'config', (j.config - 'hypertable_id' - 'mat_hypertable_id')::text,
                          'owner', j.owner::text,
                          'check', CASE WHEN j.check_name IS NOT NULL THEN j.check_schema || '.' || j.check_name END)
           AS attrs
  FROM timescaledb_information.jobs j
  LEFT JOIN timescaledb_information.continuous_aggregates a
         ON a.materialization_hypertable_schema = j.hypertable_schema
        AND a.materialization_hypertable_name = j.hypertable_name
  CROSS JOIN LATERAL (SELECT coalesce(quote_ident(a.view_schema) || '.' || quote_ident(a.view_name),
                                      quote_ident(j.hypertable_schema) || '.' || quote_ident(j.hypertable_name))
                             AS target) t
 WHERE j.job_id >= 1000
   AND (j.hypertable_schema IS NULL OR j.hypertable_schema IN ('trading', 'ops_internal')
        OR a.view_schema IN ('trading', 'ops_internal'))

-- name: drift_roles
-- Attributes of the roles the migrations create.
-- row: _Role
SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS createrole,
       r.rolcreatedb AS createdb, r.rolcanlogin AS login, r.rolreplication AS replication,
       r.rolbypassrls AS bypassrls, r.rolconnlimit AS connection_limit
  FROM pg_roles r
 WHERE r.rolname = ANY (%(names)s)

-- name: drift_role_memberships
-- The roles each of those roles is a member of.
-- row: _Membership
SELECT pg_get_userbyid(m.member) AS member, pg_get_userbyid(m.roleid) AS role
  FROM pg_auth_members m
 WHERE pg_get_userbyid(m.member) = ANY (%(names)s)

-- name: drift_server_clock
-- Seconds since the epoch on the server: scratch database names carry it.
-- row: _Clock
SELECT floor(extract(epoch FROM now()))::bigint AS epoch

-- name: drift_scratch_databases
-- Scratch databases of earlier verify runs, and whether anyone is connected to them.
-- row: _Scratch
SELECT d.datname AS name,
       EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid) AS in_use
  FROM pg_database d
 WHERE d.datname LIKE 'ops\_drift\_%'

-- name: drift_create_database
-- The scratch database the reference schema is built in; {name} is an identifier.
CREATE DATABASE {name} TEMPLATE template0

-- name: drift_drop_database
-- Drops a scratch database, disconnecting its sessions.
DROP DATABASE IF EXISTS {name} WITH (FORCE)
