-- One row per `ops-db maintain` run: what it did and whether it finished. `ops-db health`
-- warns when no successful run is recent on the apache edition, where maintain stands in
-- for TimescaleDB's job scheduler.
-- depends: 0004_retention_settings
SET ROLE ops_owner;

CREATE TABLE ops_internal.maintenance_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    edition text NOT NULL,
    dry_run boolean NOT NULL DEFAULT false,
    succeeded boolean,
    actions jsonb NOT NULL DEFAULT '[]'::jsonb,
    error text,
    CONSTRAINT maintenance_runs_edition_known CHECK (edition IN ('apache', 'timescale')),
    CONSTRAINT maintenance_runs_finished_after_start CHECK (finished_at IS NULL OR finished_at >= started_at),
    CONSTRAINT maintenance_runs_outcome_when_finished CHECK ((finished_at IS NULL) = (succeeded IS NULL))
);
COMMENT ON TABLE ops_internal.maintenance_runs IS
    'Each ops-db maintain run: started, finished, succeeded, the actions it took (jsonb list).';

-- health asks for the newest successful real run.
CREATE INDEX maintenance_runs_succeeded_finished_idx
    ON ops_internal.maintenance_runs (finished_at DESC)
    WHERE succeeded AND NOT dry_run;

RESET ROLE;
