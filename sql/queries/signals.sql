-- name: insert_signal
-- One trading signal; returns its id and time.
-- row: Signal
INSERT INTO trading.signals (symbol, signal_type, confidence, target_price, stop_loss, reasoning, model_version,
                             strategy, features, "timestamp", expires_at)
VALUES (%(symbol)s, %(signal_type)s, %(confidence)s, %(target_price)s, %(stop_loss)s, %(reasoning)s,
        %(model_version)s, %(strategy)s, %(features)s, COALESCE(%(timestamp)s, now()), %(expires_at)s)
RETURNING id, symbol, signal_type, confidence, target_price, stop_loss, reasoning, model_version, strategy,
          features, "timestamp", expires_at

-- name: recent_signals
-- Signals since a time, optionally of one symbol and above a confidence, newest first.
-- row: Signal
SELECT id, symbol, signal_type, confidence, target_price, stop_loss, reasoning, model_version, strategy, features,
       "timestamp", expires_at
  FROM trading.signals
 WHERE "timestamp" >= %(since)s
   AND (%(symbol)s::text IS NULL OR symbol = %(symbol)s)
   AND (%(min_confidence)s::numeric IS NULL OR confidence >= %(min_confidence)s)
 ORDER BY "timestamp" DESC, id DESC
 LIMIT %(limit)s
