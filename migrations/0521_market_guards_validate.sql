-- transactional: false
-- Validates the market guards 0520 added NOT VALID, outside any migration transaction: each
-- VALIDATE holds only SHARE UPDATE EXCLUSIVE on its table (ingest and reads go on) while it
-- scans the stored rows. A failed validation leaves that constraint NOT VALID with a warning
-- (new rows are checked all the same); it never blocks the deploy.
-- depends: 0520_market_guards
SET ROLE ops_owner;

-- squawk-ignore do-block-ddl -- VALIDATE CONSTRAINT per table, each under SHARE UPDATE EXCLUSIVE (writes go on); a loop so that one failure leaves only its constraint NOT VALID
DO $validate$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT con.conrelid::regclass AS tbl, con.conname
               FROM pg_constraint con
              WHERE NOT con.convalidated AND con.contype = 'c'
                AND con.conrelid IN ('trading.stock_prices'::regclass, 'trading.options_data'::regclass,
                                     'trading.market_events'::regclass, 'trading.signals'::regclass,
                                     'ops_internal.system_events_routine'::regclass,
                                     'ops_internal.system_events_critical'::regclass)
              ORDER BY 1, 2 LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tbl, c.conname);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'constraint % of % left NOT VALID: existing rows violate it', c.conname, c.tbl;
        WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
            -- timescale edition: compressed chunks may refuse a validation scan.
            RAISE WARNING 'constraint % of % left NOT VALID: %', c.conname, c.tbl, SQLERRM;
        END;
    END LOOP;
END
$validate$;

RESET ROLE;
