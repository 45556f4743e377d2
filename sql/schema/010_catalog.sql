-- requires: 0003_schemas
-- The relations of trading and ops_internal that hold data: tables, hypertables, materialized
-- views and continuous aggregates (whose rows live in their materialization hypertable,
-- `storage`). One definition for what backup manifests count and `ops-db stats` sizes.
CREATE OR REPLACE VIEW ops_internal.data_relations AS
SELECT c.oid AS relid,
       n.nspname::text AS schema_name,
       c.relname::text AS relation_name,
       CASE WHEN h.hypertable_name IS NOT NULL THEN 'hypertable'
            WHEN ca.view_name IS NOT NULL THEN 'continuous_aggregate'
            WHEN c.relkind = 'm' THEN 'materialized_view'
            ELSE 'table' END AS kind,
       CASE WHEN ca.view_name IS NOT NULL
            THEN format('%I.%I', ca.materialization_hypertable_schema,
                        ca.materialization_hypertable_name)::regclass END AS storage
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN timescaledb_information.hypertables h
         ON h.hypertable_schema = n.nspname AND h.hypertable_name = c.relname
  LEFT JOIN timescaledb_information.continuous_aggregates ca
         ON ca.view_schema = n.nspname AND ca.view_name = c.relname
 WHERE n.nspname IN ('trading', 'ops_internal')
   AND (c.relkind IN ('r', 'p', 'm') OR ca.view_name IS NOT NULL)
   AND NOT c.relispartition;

-- @drop
DROP VIEW IF EXISTS ops_internal.data_relations;
