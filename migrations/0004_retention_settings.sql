-- Retention periods as settings an operator changes without a new migration:
--   UPDATE ops_internal.retention SET drop_after = interval '120 days'
--    WHERE hypertable = 'trading.stock_prices';
-- Each migration that creates a hypertable with a retention period adds its row here.
-- The timescale edition's retention policies and `ops-db maintain` both follow this table.
-- depends: 0003_schemas
SET ROLE ops_owner;

CREATE TABLE ops_internal.retention (
    hypertable text PRIMARY KEY,
    drop_after interval NOT NULL,
    note text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT retention_drop_after_positive CHECK (drop_after > interval '0')
);
COMMENT ON TABLE ops_internal.retention IS
    'How long raw rows of each hypertable are kept; edit drop_after to change a period.';

RESET ROLE;
