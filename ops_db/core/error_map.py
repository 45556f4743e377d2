"""The one error map: what a violation of each named constraint means, in words naming the field,
and which ops_db error reports it. Keyed by the constraint constants below; nothing registers
anything at import time, so every message is there whichever module was imported first.

`translate()` turns any psycopg error into an ops_db error (this map first, then our SQLSTATEs,
then the server's classes); `map_errors()` is the context manager the core wraps every call in.
tests/test_error_map.py checks that every named constraint of `trading` and `ops_internal` is
here or listed in GENERIC with the reason its server message is enough.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg

from ops_db.core.errors import (
    SQLSTATES,
    DatabaseUnavailable,
    DuplicateOrder,
    InvalidTransition,
    OpsDbError,
    OrderNotFound,
    Overfill,
    PermissionDenied,
    RetryableConflict,
    ValidationError,
)

# agent_decisions
AGENT_DECISIONS_JSON_OBJECTS = "agent_decisions_json_objects"
AGENT_DECISIONS_ACTION_VALID = "agent_decisions_action_valid"
AGENT_DECISIONS_AGENT_VALID = "agent_decisions_agent_valid"
AGENT_DECISIONS_CONFIDENCE_VALID = "agent_decisions_confidence_valid"
AGENT_DECISIONS_DECIDED_AT_VALID = "agent_decisions_decided_at_valid"
AGENT_DECISIONS_REASONING_VALID = "agent_decisions_reasoning_valid"
AGENT_DECISIONS_SYMBOL_VALID = "agent_decisions_symbol_valid"

# alerts
ALERTS_DETAILS_OBJECT = "alerts_details_object"
ALERTS_ALERT_TYPE_VALID = "alerts_alert_type_valid"
ALERTS_CREATED_AT_VALID = "alerts_created_at_valid"
ALERTS_MESSAGE_VALID = "alerts_message_valid"
ALERTS_RESOLUTION_COMPLETE = "alerts_resolution_complete"
ALERTS_RESOLUTION_VALID = "alerts_resolution_valid"
ALERTS_RESOLVED_AT_VALID = "alerts_resolved_at_valid"
ALERTS_RESOLVED_BY_VALID = "alerts_resolved_by_valid"
ALERTS_SEVERITY_VALID = "alerts_severity_valid"
ALERTS_SOURCE_VALID = "alerts_source_valid"
ALERTS_SYMBOL_VALID = "alerts_symbol_valid"

# daily_stats
DAILY_STATS_TRADING_DATE_VALID = "daily_stats_trading_date_valid"
DAILY_STATS_UPDATED_AT_VALID = "daily_stats_updated_at_valid"

# data_quality
DATA_QUALITY_DETAILS_OBJECT = "data_quality_details_object"
DATA_QUALITY_CHECK_NAME_VALID = "data_quality_check_name_valid"
DATA_QUALITY_CHECKED_AT_VALID = "data_quality_checked_at_valid"
DATA_QUALITY_SCORE_VALID = "data_quality_score_valid"
DATA_QUALITY_SOURCE_VALID = "data_quality_source_valid"
DATA_QUALITY_SYMBOL_VALID = "data_quality_symbol_valid"

# executions
EXECUTIONS_POSITION_ID_FKEY = "executions_position_id_fkey"
EXECUTIONS_BROKER_TRADE_ID_KEY = "executions_broker_trade_id_key"
EXECUTIONS_BROKER_TRADE_ID_VALID = "executions_broker_trade_id_valid"
EXECUTIONS_COSTS_VALID = "executions_costs_valid"
EXECUTIONS_CREATED_AT_VALID = "executions_created_at_valid"
EXECUTIONS_EXECUTED_AT_VALID = "executions_executed_at_valid"
EXECUTIONS_ORDER_ID_FKEY = "executions_order_id_fkey"
EXECUTIONS_PRICE_VALID = "executions_price_valid"
EXECUTIONS_QUANTITY_VALID = "executions_quantity_valid"
EXECUTIONS_RECORDED_BY_VALID = "executions_recorded_by_valid"
EXECUTIONS_SIDE_VALID = "executions_side_valid"
EXECUTIONS_SYMBOL_VALID = "executions_symbol_valid"
EXECUTIONS_VENUE_VALID = "executions_venue_valid"

# kill_switch_events
KILL_SWITCH_EVENTS_ACTOR_VALID = "kill_switch_events_actor_valid"
KILL_SWITCH_EVENTS_CREATED_AT_VALID = "kill_switch_events_created_at_valid"
KILL_SWITCH_EVENTS_REASON_VALID = "kill_switch_events_reason_valid"

# maintenance_runs
MAINTENANCE_RUNS_ERROR_VALID = "maintenance_runs_error_valid"
MAINTENANCE_RUNS_FINISHED_AT_VALID = "maintenance_runs_finished_at_valid"
MAINTENANCE_RUNS_STARTED_AT_VALID = "maintenance_runs_started_at_valid"

# market_events
MARKET_EVENTS_VOLUME_NONNEGATIVE = "market_events_volume_nonnegative"
MARKET_EVENTS_PRICE_POSITIVE = "market_events_price_positive"
MARKET_EVENTS_METADATA_OBJECT = "market_events_metadata_object"
MARKET_EVENTS_CREATED_AT_BOUNDED = "market_events_created_at_bounded"
MARKET_EVENTS_EVENT_TYPE_FORMAT = "market_events_event_type_format"
MARKET_EVENTS_SYMBOL_FORMAT = "market_events_symbol_format"
MARKET_EVENTS_TIMESTAMP_BOUNDED = "market_events_timestamp_bounded"

# options_data
OPTIONS_DATA_UNDERLYING_FORMAT = "options_data_underlying_format"
OPTIONS_DATA_STRIKE_POSITIVE = "options_data_strike_positive"
OPTIONS_DATA_BID_NOT_ABOVE_ASK = "options_data_bid_not_above_ask"
OPTIONS_DATA_CREATED_AT_BOUNDED = "options_data_created_at_bounded"
OPTIONS_DATA_GREEKS_SANE = "options_data_greeks_sane"
OPTIONS_DATA_OPTION_SYMBOL_FORMAT = "options_data_option_symbol_format"
OPTIONS_DATA_OPTION_TYPE_KNOWN = "options_data_option_type_known"
OPTIONS_DATA_PRICES_NONNEGATIVE = "options_data_prices_nonnegative"
OPTIONS_DATA_SYMBOL_MATCHES_CONTRACT = "options_data_symbol_matches_contract"
OPTIONS_DATA_TIMESTAMP_BOUNDED = "options_data_timestamp_bounded"
OPTIONS_DATA_UPDATED_AT_BOUNDED = "options_data_updated_at_bounded"
OPTIONS_DATA_VOLUME_NONNEGATIVE = "options_data_volume_nonnegative"

# order_events
ORDER_EVENTS_ACTOR_VALID = "order_events_actor_valid"
ORDER_EVENTS_FROM_STATUS_VALID = "order_events_from_status_valid"
ORDER_EVENTS_OCCURRED_AT_VALID = "order_events_occurred_at_valid"
ORDER_EVENTS_TO_STATUS_VALID = "order_events_to_status_valid"

# performance_metrics
PERFORMANCE_METRICS_LABELS_OBJECT = "performance_metrics_labels_object"
PERFORMANCE_METRICS_METRIC_VALID = "performance_metrics_metric_valid"
PERFORMANCE_METRICS_RECORDED_AT_VALID = "performance_metrics_recorded_at_valid"
PERFORMANCE_METRICS_VALUE_FINITE = "performance_metrics_value_finite"

# portfolio_snapshots
PORTFOLIO_SNAPSHOTS_DETAILS_OBJECT = "portfolio_snapshots_details_object"
PORTFOLIO_SNAPSHOTS_CASH_VALID = "portfolio_snapshots_cash_valid"
PORTFOLIO_SNAPSHOTS_PKEY = "portfolio_snapshots_pkey"
PORTFOLIO_SNAPSHOTS_SNAPSHOT_AT_VALID = "portfolio_snapshots_snapshot_at_valid"

# positions
POSITIONS_SYMBOL_VALID = "positions_symbol_valid"
POSITIONS_CLOSE_REASON_VALID = "positions_close_reason_valid"
POSITIONS_CLOSED_AT_VALID = "positions_closed_at_valid"
POSITIONS_CURRENT_PRICE_VALID = "positions_current_price_valid"
POSITIONS_LAST_MARKED_AT_VALID = "positions_last_marked_at_valid"
POSITIONS_OPENED_AT_VALID = "positions_opened_at_valid"
POSITIONS_UPDATED_AT_VALID = "positions_updated_at_valid"

# reconciliation_log
RECONCILIATION_LOG_ORDER_ID_FKEY = "reconciliation_log_order_id_fkey"
RECONCILIATION_LOG_DETAILS_OBJECT = "reconciliation_log_details_object"
RECONCILIATION_LOG_DETECTED_AT_VALID = "reconciliation_log_detected_at_valid"
RECONCILIATION_LOG_ISSUE_TYPE_VALID = "reconciliation_log_issue_type_valid"
RECONCILIATION_LOG_NUMBERS_VALID = "reconciliation_log_numbers_valid"
RECONCILIATION_LOG_RESOLUTION_COMPLETE = "reconciliation_log_resolution_complete"
RECONCILIATION_LOG_RESOLUTION_VALID = "reconciliation_log_resolution_valid"
RECONCILIATION_LOG_RESOLVED_AT_VALID = "reconciliation_log_resolved_at_valid"
RECONCILIATION_LOG_RESOLVED_BY_VALID = "reconciliation_log_resolved_by_valid"
RECONCILIATION_LOG_SYMBOL_VALID = "reconciliation_log_symbol_valid"

# retention
RETENTION_HYPERTABLE_VALID = "retention_hypertable_valid"
RETENTION_NOTE_VALID = "retention_note_valid"
RETENTION_UPDATED_AT_VALID = "retention_updated_at_valid"

# signals
SIGNALS_FEATURES_OBJECT = "signals_features_object"
SIGNALS_CONFIDENCE_RANGE = "signals_confidence_range"
SIGNALS_CREATED_AT_BOUNDED = "signals_created_at_bounded"
SIGNALS_EXPIRES_AT_BOUNDED = "signals_expires_at_bounded"
SIGNALS_EXPIRY_AFTER_SIGNAL = "signals_expiry_after_signal"
SIGNALS_MODEL_VERSION_VALID = "signals_model_version_valid"
SIGNALS_PRICES_POSITIVE = "signals_prices_positive"
SIGNALS_REASONING_VALID = "signals_reasoning_valid"
SIGNALS_SIGNAL_TYPE_KNOWN = "signals_signal_type_known"
SIGNALS_STOP_ON_LOSING_SIDE = "signals_stop_on_losing_side"
SIGNALS_STRATEGY_VALID = "signals_strategy_valid"
SIGNALS_SYMBOL_FORMAT = "signals_symbol_format"
SIGNALS_TIMESTAMP_BOUNDED = "signals_timestamp_bounded"
SIGNALS_UPDATED_AT_BOUNDED = "signals_updated_at_bounded"

# staged_orders
STAGED_ORDERS_FILLED_QUANTITY_VALID = "staged_orders_filled_quantity_valid"
STAGED_ORDERS_APPROVAL_REASONS_VALID = "staged_orders_approval_reasons_valid"
STAGED_ORDERS_APPROVED_AT_VALID = "staged_orders_approved_at_valid"
STAGED_ORDERS_APPROVED_BY_VALID = "staged_orders_approved_by_valid"
STAGED_ORDERS_BROKER_ORDER_ID_KEY = "staged_orders_broker_order_id_key"
STAGED_ORDERS_BROKER_ORDER_ID_VALID = "staged_orders_broker_order_id_valid"
STAGED_ORDERS_CLIENT_ORDER_ID_KEY = "staged_orders_client_order_id_key"
STAGED_ORDERS_CLIENT_ORDER_ID_VALID = "staged_orders_client_order_id_valid"
STAGED_ORDERS_CLOSED_AT_VALID = "staged_orders_closed_at_valid"
STAGED_ORDERS_CREATED_AT_VALID = "staged_orders_created_at_valid"
STAGED_ORDERS_CREATED_BY_VALID = "staged_orders_created_by_valid"
STAGED_ORDERS_EXECUTED_AT_VALID = "staged_orders_executed_at_valid"
STAGED_ORDERS_EXPIRES_AFTER_CREATION = "staged_orders_expires_after_creation"
STAGED_ORDERS_EXPIRES_AT_VALID = "staged_orders_expires_at_valid"
STAGED_ORDERS_JSON_OBJECTS = "staged_orders_json_objects"
STAGED_ORDERS_LIMIT_PRICE_MATCHES_TYPE = "staged_orders_limit_price_matches_type"
STAGED_ORDERS_ORDER_TYPE_VALID = "staged_orders_order_type_valid"
STAGED_ORDERS_PRICES_VALID = "staged_orders_prices_valid"
STAGED_ORDERS_QUANTITY_VALID = "staged_orders_quantity_valid"
STAGED_ORDERS_REJECTION_REASON_VALID = "staged_orders_rejection_reason_valid"
STAGED_ORDERS_RISK_SCORE_VALID = "staged_orders_risk_score_valid"
STAGED_ORDERS_SIDE_VALID = "staged_orders_side_valid"
STAGED_ORDERS_STATUS_REASON_VALID = "staged_orders_status_reason_valid"
STAGED_ORDERS_STATUS_VALID = "staged_orders_status_valid"
STAGED_ORDERS_STOP_PRICE_MATCHES_TYPE = "staged_orders_stop_price_matches_type"
STAGED_ORDERS_STRATEGY_ID_FKEY = "staged_orders_strategy_id_fkey"
STAGED_ORDERS_SUBMITTED_AT_VALID = "staged_orders_submitted_at_valid"
STAGED_ORDERS_SYMBOL_VALID = "staged_orders_symbol_valid"
STAGED_ORDERS_TAGS_ELEMENTS_VALID = "staged_orders_tags_elements_valid"
STAGED_ORDERS_TAGS_VALID = "staged_orders_tags_valid"
STAGED_ORDERS_TIME_IN_FORCE_VALID = "staged_orders_time_in_force_valid"
STAGED_ORDERS_UPDATED_AT_VALID = "staged_orders_updated_at_valid"

# stock_prices
STOCK_PRICES_COUNTS_NONNEGATIVE = "stock_prices_counts_nonnegative"
STOCK_PRICES_CREATED_AT_BOUNDED = "stock_prices_created_at_bounded"
STOCK_PRICES_HIGH_LOW_RANGE = "stock_prices_high_low_range"
STOCK_PRICES_PRICES_POSITIVE = "stock_prices_prices_positive"
STOCK_PRICES_SYMBOL_FORMAT = "stock_prices_symbol_format"
STOCK_PRICES_TIMESTAMP_BOUNDED = "stock_prices_timestamp_bounded"
STOCK_PRICES_UPDATED_AT_BOUNDED = "stock_prices_updated_at_bounded"
STOCK_PRICES_VOLUME_NONNEGATIVE = "stock_prices_volume_nonnegative"

# strategies
STRATEGIES_PARAMS_OBJECT = "strategies_params_object"
STRATEGIES_CREATED_AT_VALID = "strategies_created_at_valid"
STRATEGIES_DESCRIPTION_VALID = "strategies_description_valid"
STRATEGIES_MAX_ORDER_QUANTITY_VALID = "strategies_max_order_quantity_valid"
STRATEGIES_MAX_ORDER_VALUE_VALID = "strategies_max_order_value_valid"
STRATEGIES_MODE_VALID = "strategies_mode_valid"
STRATEGIES_NAME_KEY = "strategies_name_key"
STRATEGIES_NAME_VALID = "strategies_name_valid"
STRATEGIES_TYPE_VALID = "strategies_type_valid"
STRATEGIES_UPDATED_AT_VALID = "strategies_updated_at_valid"

# strategy_performance
STRATEGY_PERFORMANCE_WIN_RATE_VALID = "strategy_performance_win_rate_valid"
STRATEGY_PERFORMANCE_TRADES_VALID = "strategy_performance_trades_valid"
STRATEGY_PERFORMANCE_STRATEGY_ID_FKEY = "strategy_performance_strategy_id_fkey"
STRATEGY_PERFORMANCE_RISK_METRICS_OBJECT = "strategy_performance_risk_metrics_object"
STRATEGY_PERFORMANCE_PERIOD_VALID = "strategy_performance_period_valid"
STRATEGY_PERFORMANCE_PERIOD_KEY = "strategy_performance_period_key"
STRATEGY_PERFORMANCE_CREATED_AT_VALID = "strategy_performance_created_at_valid"
STRATEGY_PERFORMANCE_PERIOD_END_VALID = "strategy_performance_period_end_valid"
STRATEGY_PERFORMANCE_PERIOD_START_VALID = "strategy_performance_period_start_valid"

# system_events_critical
SYSTEM_EVENTS_CRITICAL_COMPONENT_VALID = "system_events_critical_component_valid"
SYSTEM_EVENTS_CRITICAL_CREATED_AT_BOUNDED = "system_events_critical_created_at_bounded"
SYSTEM_EVENTS_CRITICAL_EVENT_TYPE_VALID = "system_events_critical_event_type_valid"
SYSTEM_EVENTS_CRITICAL_MESSAGE_VALID = "system_events_critical_message_valid"
SYSTEM_EVENTS_CRITICAL_TIMESTAMP_BOUNDED = "system_events_critical_timestamp_bounded"

# system_events_routine
SYSTEM_EVENTS_ROUTINE_COMPONENT_VALID = "system_events_routine_component_valid"
SYSTEM_EVENTS_ROUTINE_CREATED_AT_BOUNDED = "system_events_routine_created_at_bounded"
SYSTEM_EVENTS_ROUTINE_EVENT_TYPE_VALID = "system_events_routine_event_type_valid"
SYSTEM_EVENTS_ROUTINE_MESSAGE_VALID = "system_events_routine_message_valid"
SYSTEM_EVENTS_ROUTINE_TIMESTAMP_BOUNDED = "system_events_routine_timestamp_bounded"

# system_health
SYSTEM_HEALTH_JSON_OBJECTS = "system_health_json_objects"
SYSTEM_HEALTH_CHECKED_AT_VALID = "system_health_checked_at_valid"
SYSTEM_HEALTH_COMPONENT_VALID = "system_health_component_valid"
SYSTEM_HEALTH_SCORE_VALID = "system_health_score_valid"
SYSTEM_HEALTH_STATUS_VALID = "system_health_status_valid"

# kill_switch_state
KILL_SWITCH_STATE_REASON_VALID = "kill_switch_state_reason_valid"
KILL_SWITCH_STATE_ACTOR_VALID = "kill_switch_state_actor_valid"

# Named constraints whose server message is enough, each with the reason no client meets it as a
# refusal of its input (tests/test_error_map.py: every named constraint is here or mapped).
_INTERNAL = "a table only the database's own functions write (owner-only): a violation is a bug, not input"
_DERIVED = "set by the database from other rows, never from a client's value"
GENERIC: Mapping[str, str] = {
    "maintenance_runs_edition_known": _INTERNAL,
    "maintenance_runs_finished_after_start": _INTERNAL,
    "maintenance_runs_outcome_when_finished": _INTERNAL,
    "order_change_context_actor_valid": _INTERNAL,
    "order_change_context_kind_valid": _INTERNAL,
    "retention_drop_after_positive": _INTERNAL,
    "rollup_level_positive": _INTERNAL,
    "rollup_invalidation_range": _INTERNAL,
    "system_events_critical_severity": "the view's trigger routes each severity to its table and refuses an "
    "unknown one first, naming the allowed values (ops_internal.route_system_event)",
    "system_events_routine_severity": "as system_events_critical_severity",
    "kill_switch_events_login_role_valid": _DERIVED + " (session_user)",
    "kill_switch_state_login_role_valid": _DERIVED + " (session_user)",
    "kill_switch_state_singleton": "one row, changed only by trading.set_kill_switch()",
    "order_events_type_valid": _DERIVED + " (the audit trigger names the event)",
    "positions_avg_cost_valid": _DERIVED + " (fills move positions)",
    "positions_closed_at_matches_status": _DERIVED + " (fills and close_position move positions)",
    "positions_open_has_quantity": _DERIVED + " (fills move positions)",
    "positions_status_valid": _DERIVED + " (fills and close_position move positions)",
    "signal_performance_1d_key": "a rollup table written only by maintain (apache edition)",
}
# Constraints of the apache edition's rollup tables: the timescale edition's continuous aggregates
# (the same names, as views) have none of them.
APACHE_ONLY = frozenset({"signal_performance_1d_key"})
# Primary keys: ids come from identity columns, and natural keys (a tick's symbol and time) are
# handled by the functions that write them (ingest skips what is stored), so none is a client's
# refusal to word; their names end in _pkey.
GENERIC_SUFFIXES = ("_pkey",)

# Phrases the messages share.
_NAME = "1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
_ID = "1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
_SYMBOL = "1-32 upper-case letters, digits, '.', '/', '-' or spaces, starting with a letter or digit"
_LIMIT = "a positive number no larger than 1,000,000,000"
_SOON = "must be on or after 2000-01-01 and at most 5 minutes from now"
_KEY = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"

CONSTRAINTS: Mapping[str, tuple[type[OpsDbError], str]] = {
    # agent_decisions
    AGENT_DECISIONS_JSON_OBJECTS: (ValidationError, "inputs and outcome of an agent decision must be JSON objects"),
    AGENT_DECISIONS_ACTION_VALID: (ValidationError, "action must be a lower-case word such as 'open_position'"),
    AGENT_DECISIONS_AGENT_VALID: (ValidationError, "agent must be 1-64 letters, digits, '.', '_' or '-'"),
    AGENT_DECISIONS_CONFIDENCE_VALID: (ValidationError, "confidence must be between 0 and 1"),
    AGENT_DECISIONS_DECIDED_AT_VALID: (
        ValidationError,
        f"decided_at {_SOON}",
    ),
    AGENT_DECISIONS_REASONING_VALID: (ValidationError, "reasoning must have 1 to 10000 characters"),
    AGENT_DECISIONS_SYMBOL_VALID: (
        ValidationError,
        f"symbol of an agent decision must be {_SYMBOL}",
    ),
    # alerts
    ALERTS_DETAILS_OBJECT: (ValidationError, "alert details must be a JSON object"),
    ALERTS_ALERT_TYPE_VALID: (
        ValidationError,
        "alert type must be a lower-case word such as 'drawdown' or 'position_limit'",
    ),
    ALERTS_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    ALERTS_MESSAGE_VALID: (ValidationError, "an alert needs a message of 1 to 4000 characters"),
    ALERTS_RESOLUTION_COMPLETE: (
        ValidationError,
        "resolving needs who resolved it and a resolution of 1 to 2000 characters",
    ),
    ALERTS_RESOLUTION_VALID: (ValidationError, "resolution must have 1 to 4000 characters"),
    ALERTS_RESOLVED_AT_VALID: (
        ValidationError,
        f"resolved_at {_SOON}",
    ),
    ALERTS_RESOLVED_BY_VALID: (
        ValidationError,
        f"resolved_by must be {_NAME}",
    ),
    ALERTS_SEVERITY_VALID: (ValidationError, "severity must be INFO, WARNING, CRITICAL or EMERGENCY"),
    ALERTS_SOURCE_VALID: (ValidationError, "alert source must be 1-64 letters, digits, '.', '_' or '-'"),
    ALERTS_SYMBOL_VALID: (
        ValidationError,
        f"alert symbol must be {_SYMBOL}",
    ),
    # daily_stats
    DAILY_STATS_TRADING_DATE_VALID: (
        ValidationError,
        "trading date (day) must be on or after 2000-01-01 and at most 1 day from now",
    ),
    DAILY_STATS_UPDATED_AT_VALID: (
        ValidationError,
        f"updated_at {_SOON}",
    ),
    # data_quality
    DATA_QUALITY_DETAILS_OBJECT: (ValidationError, "data quality details must be a JSON object"),
    DATA_QUALITY_CHECK_NAME_VALID: (ValidationError, "check name must be a lower-case word such as 'price_gap'"),
    DATA_QUALITY_CHECKED_AT_VALID: (
        ValidationError,
        f"checked_at {_SOON}",
    ),
    DATA_QUALITY_SCORE_VALID: (ValidationError, "quality score must be between 0 and 100"),
    DATA_QUALITY_SOURCE_VALID: (ValidationError, "source must be 1-64 letters, digits, '.', '_' or '-'"),
    DATA_QUALITY_SYMBOL_VALID: (
        ValidationError,
        f"symbol of a data quality check must be {_SYMBOL}",
    ),
    # executions
    EXECUTIONS_POSITION_ID_FKEY: (ValidationError, "no position with that id"),
    EXECUTIONS_BROKER_TRADE_ID_KEY: (ValidationError, "a fill with this broker trade id is already recorded"),
    EXECUTIONS_BROKER_TRADE_ID_VALID: (
        ValidationError,
        f"broker trade id must be {_ID}",
    ),
    EXECUTIONS_COSTS_VALID: (ValidationError, "commission and fees must be between 0 and 1,000,000,000"),
    EXECUTIONS_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    EXECUTIONS_EXECUTED_AT_VALID: (
        ValidationError,
        f"executed_at {_SOON}",
    ),
    EXECUTIONS_ORDER_ID_FKEY: (OrderNotFound, "no order with that id"),
    EXECUTIONS_PRICE_VALID: (ValidationError, f"fill price must be {_LIMIT}"),
    EXECUTIONS_QUANTITY_VALID: (
        ValidationError,
        f"fill quantity must be {_LIMIT}, with at most 8 decimals",
    ),
    EXECUTIONS_RECORDED_BY_VALID: (
        ValidationError,
        f"who records a fill (actor) must be {_NAME}",
    ),
    EXECUTIONS_SIDE_VALID: (ValidationError, "fill side must be 'buy' or 'sell'"),
    EXECUTIONS_SYMBOL_VALID: (
        ValidationError,
        f"fill symbol must be {_SYMBOL}",
    ),
    EXECUTIONS_VENUE_VALID: (ValidationError, "venue must be 1-32 letters, digits, '.', '_' or '-'"),
    # kill_switch_events
    KILL_SWITCH_EVENTS_ACTOR_VALID: (
        ValidationError,
        "who switches must be 1-64 letters, digits, '.', '_', '@' or '-'",
    ),
    KILL_SWITCH_EVENTS_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    KILL_SWITCH_EVENTS_REASON_VALID: (ValidationError, "the kill switch needs a reason of 1 to 2000 characters"),
    # maintenance_runs
    MAINTENANCE_RUNS_ERROR_VALID: (ValidationError, "a maintenance run's error must have 1 to 20000 characters"),
    MAINTENANCE_RUNS_FINISHED_AT_VALID: (
        ValidationError,
        f"finished_at {_SOON}",
    ),
    MAINTENANCE_RUNS_STARTED_AT_VALID: (
        ValidationError,
        f"started_at {_SOON}",
    ),
    # market_events
    MARKET_EVENTS_VOLUME_NONNEGATIVE: (ValidationError, "market event volume cannot be negative"),
    MARKET_EVENTS_PRICE_POSITIVE: (ValidationError, "market event price must be a positive number"),
    MARKET_EVENTS_METADATA_OBJECT: (ValidationError, "market event metadata must be a JSON object"),
    MARKET_EVENTS_CREATED_AT_BOUNDED: (
        ValidationError,
        "created_at must lie between 2000-01-01 UTC and one day from now",
    ),
    MARKET_EVENTS_EVENT_TYPE_FORMAT: (ValidationError, "event type must be lower_snake_case"),
    MARKET_EVENTS_SYMBOL_FORMAT: (
        ValidationError,
        "symbol must be 1-10 upper-case letters, digits, '.' or '-', starting with a letter",
    ),
    MARKET_EVENTS_TIMESTAMP_BOUNDED: (
        ValidationError,
        "timestamp must lie between 2000-01-01 UTC and one day from now",
    ),
    # options_data
    OPTIONS_DATA_UNDERLYING_FORMAT: (
        ValidationError,
        "underlying symbol must be 1-10 upper-case letters, digits, '.' or '-', starting with a letter",
    ),
    OPTIONS_DATA_STRIKE_POSITIVE: (ValidationError, "strike price must be a positive number"),
    OPTIONS_DATA_BID_NOT_ABOVE_ASK: (ValidationError, "bid cannot be above ask"),
    OPTIONS_DATA_CREATED_AT_BOUNDED: (
        ValidationError,
        "created_at must lie between 2000-01-01 UTC and one day from now",
    ),
    OPTIONS_DATA_GREEKS_SANE: (
        ValidationError,
        "implied volatility, gamma and vega must be >= 0 and delta within -1..1",
    ),
    OPTIONS_DATA_OPTION_SYMBOL_FORMAT: (
        ValidationError,
        "option symbol must follow OCC symbology (ROOT YYMMDD C/P strike*1000)",
    ),
    OPTIONS_DATA_OPTION_TYPE_KNOWN: (ValidationError, "option type must be CALL or PUT"),
    OPTIONS_DATA_PRICES_NONNEGATIVE: (ValidationError, "option prices cannot be negative"),
    OPTIONS_DATA_SYMBOL_MATCHES_CONTRACT: (ValidationError, "option symbol does not match expiration, type and strike"),
    OPTIONS_DATA_TIMESTAMP_BOUNDED: (ValidationError, "timestamp must lie between 2000-01-01 UTC and one day from now"),
    OPTIONS_DATA_UPDATED_AT_BOUNDED: (
        ValidationError,
        "updated_at must lie between 2000-01-01 UTC and one day from now",
    ),
    OPTIONS_DATA_VOLUME_NONNEGATIVE: (ValidationError, "volume and open interest cannot be negative"),
    # order_events
    ORDER_EVENTS_ACTOR_VALID: (
        ValidationError,
        f"actor must be {_NAME}",
    ),
    ORDER_EVENTS_FROM_STATUS_VALID: (ValidationError, "from_status of an order event must be an order status"),
    ORDER_EVENTS_OCCURRED_AT_VALID: (
        ValidationError,
        f"occurred_at {_SOON}",
    ),
    ORDER_EVENTS_TO_STATUS_VALID: (ValidationError, "to_status of an order event must be an order status"),
    # performance_metrics
    PERFORMANCE_METRICS_LABELS_OBJECT: (ValidationError, "metric labels must be a JSON object"),
    PERFORMANCE_METRICS_METRIC_VALID: (
        ValidationError,
        "metric must be a lower-case name such as 'sharpe_ratio' or 'latency.p99'",
    ),
    PERFORMANCE_METRICS_RECORDED_AT_VALID: (
        ValidationError,
        f"recorded_at {_SOON}",
    ),
    PERFORMANCE_METRICS_VALUE_FINITE: (ValidationError, "a metric value must be a finite number within ±1e18"),
    # portfolio_snapshots
    PORTFOLIO_SNAPSHOTS_DETAILS_OBJECT: (ValidationError, "snapshot details must be a JSON object"),
    PORTFOLIO_SNAPSHOTS_CASH_VALID: (ValidationError, "cash balance must be a finite amount within ±1e15"),
    PORTFOLIO_SNAPSHOTS_PKEY: (ValidationError, "a portfolio snapshot for that time already exists"),
    PORTFOLIO_SNAPSHOTS_SNAPSHOT_AT_VALID: (
        ValidationError,
        f"snapshot time (at, snapshot_at) {_SOON}",
    ),
    # positions
    POSITIONS_SYMBOL_VALID: (ValidationError, f"position symbol must be {_SYMBOL}"),
    POSITIONS_CLOSE_REASON_VALID: (ValidationError, "close reason (reason) must have 1 to 2000 characters"),
    POSITIONS_CLOSED_AT_VALID: (
        ValidationError,
        f"closed_at {_SOON}",
    ),
    POSITIONS_CURRENT_PRICE_VALID: (ValidationError, "a mark price must be a positive number up to 1,000,000,000"),
    POSITIONS_LAST_MARKED_AT_VALID: (
        ValidationError,
        f"mark time (at, last_marked_at) {_SOON}",
    ),
    POSITIONS_OPENED_AT_VALID: (
        ValidationError,
        f"opened_at {_SOON}",
    ),
    POSITIONS_UPDATED_AT_VALID: (
        ValidationError,
        f"updated_at {_SOON}",
    ),
    # reconciliation_log
    RECONCILIATION_LOG_ORDER_ID_FKEY: (OrderNotFound, "no order with that id"),
    RECONCILIATION_LOG_DETAILS_OBJECT: (ValidationError, "reconciliation details must be a JSON object"),
    RECONCILIATION_LOG_DETECTED_AT_VALID: (
        ValidationError,
        f"detected_at {_SOON}",
    ),
    RECONCILIATION_LOG_ISSUE_TYPE_VALID: (
        ValidationError,
        "issue type must be quantity_mismatch, price_mismatch, missing_at_broker, "
        "unknown_at_broker, order_status_mismatch or other",
    ),
    RECONCILIATION_LOG_NUMBERS_VALID: (
        ValidationError,
        "quantities must be within ±1,000,000,000 and prices between 0 and 1,000,000,000",
    ),
    RECONCILIATION_LOG_RESOLUTION_COMPLETE: (
        ValidationError,
        "resolving needs who resolved it and a resolution of 1 to 2000 characters",
    ),
    RECONCILIATION_LOG_RESOLUTION_VALID: (ValidationError, "resolution must have 1 to 4000 characters"),
    RECONCILIATION_LOG_RESOLVED_AT_VALID: (
        ValidationError,
        f"resolved_at {_SOON}",
    ),
    RECONCILIATION_LOG_RESOLVED_BY_VALID: (
        ValidationError,
        f"resolved_by must be {_NAME}",
    ),
    RECONCILIATION_LOG_SYMBOL_VALID: (
        ValidationError,
        "symbol must be 1-32 upper-case letters, digits, '.', '/', '-' or spaces",
    ),
    # retention
    RETENTION_HYPERTABLE_VALID: (ValidationError, "hypertable must be a schema-qualified lower-case table name"),
    RETENTION_NOTE_VALID: (ValidationError, "a retention note must have 1 to 2000 characters"),
    RETENTION_UPDATED_AT_VALID: (
        ValidationError,
        f"updated_at {_SOON}",
    ),
    # signals
    SIGNALS_FEATURES_OBJECT: (ValidationError, "signal features must be a JSON object"),
    SIGNALS_CONFIDENCE_RANGE: (ValidationError, "confidence must be between 0 and 1"),
    SIGNALS_CREATED_AT_BOUNDED: (ValidationError, "created_at must lie between 2000-01-01 UTC and one day from now"),
    SIGNALS_EXPIRES_AT_BOUNDED: (ValidationError, "expires_at must lie within 366 days of the signal"),
    SIGNALS_EXPIRY_AFTER_SIGNAL: (ValidationError, "a signal must expire after it is issued"),
    SIGNALS_MODEL_VERSION_VALID: (
        ValidationError,
        "model_version must be 1-64 letters, digits, '.', '_', ':', '+' or '-', starting with a letter or digit",
    ),
    SIGNALS_PRICES_POSITIVE: (ValidationError, "target price and stop loss must be positive"),
    SIGNALS_REASONING_VALID: (ValidationError, "reasoning is longer than 4000 characters"),
    SIGNALS_SIGNAL_TYPE_KNOWN: (ValidationError, "signal type must be BUY, SELL or HOLD"),
    SIGNALS_STOP_ON_LOSING_SIDE: (ValidationError, "a BUY's stop loss must be below its target, a SELL's above"),
    SIGNALS_STRATEGY_VALID: (
        ValidationError,
        "strategy must be 1-64 letters, digits, space, '.', '_' or '-', starting with a letter or digit",
    ),
    SIGNALS_SYMBOL_FORMAT: (ValidationError, "symbol is not a valid ticker symbol"),
    SIGNALS_TIMESTAMP_BOUNDED: (ValidationError, "timestamp must lie between 2000-01-01 UTC and one day from now"),
    SIGNALS_UPDATED_AT_BOUNDED: (ValidationError, "updated_at must lie between 2000-01-01 UTC and one day from now"),
    # staged_orders
    STAGED_ORDERS_FILLED_QUANTITY_VALID: (Overfill, "filled quantity must lie between 0 and the order's quantity"),
    STAGED_ORDERS_APPROVAL_REASONS_VALID: (
        ValidationError,
        "approval reasons must be at most 16 printable texts of 1-200 characters",
    ),
    STAGED_ORDERS_APPROVED_AT_VALID: (
        ValidationError,
        f"approved_at {_SOON}",
    ),
    STAGED_ORDERS_APPROVED_BY_VALID: (
        ValidationError,
        f"the approver must be {_NAME}",
    ),
    STAGED_ORDERS_BROKER_ORDER_ID_KEY: (ValidationError, "this broker order id already belongs to another order"),
    STAGED_ORDERS_BROKER_ORDER_ID_VALID: (
        ValidationError,
        f"broker order id must be {_ID}",
    ),
    STAGED_ORDERS_CLIENT_ORDER_ID_KEY: (DuplicateOrder, "an order with this client order id already exists"),
    STAGED_ORDERS_CLIENT_ORDER_ID_VALID: (
        ValidationError,
        f"client order id must be {_ID}",
    ),
    STAGED_ORDERS_CLOSED_AT_VALID: (
        ValidationError,
        f"closed_at {_SOON}",
    ),
    STAGED_ORDERS_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    STAGED_ORDERS_CREATED_BY_VALID: (
        ValidationError,
        f"the user staging an order must be {_NAME}",
    ),
    STAGED_ORDERS_EXECUTED_AT_VALID: (
        ValidationError,
        f"executed_at {_SOON}",
    ),
    STAGED_ORDERS_EXPIRES_AFTER_CREATION: (ValidationError, "an order must expire after it is staged"),
    STAGED_ORDERS_EXPIRES_AT_VALID: (
        ValidationError,
        "expires_at must be on or after 2000-01-01 and at most 1 year from now",
    ),
    STAGED_ORDERS_JSON_OBJECTS: (
        ValidationError,
        "risk factors, portfolio impact, compliance flags, metadata and market data must be JSON objects",
    ),
    STAGED_ORDERS_LIMIT_PRICE_MATCHES_TYPE: (
        ValidationError,
        "order type and limit price disagree: limit and stop-limit orders need a limit price; "
        "market and stop orders must not have one",
    ),
    STAGED_ORDERS_ORDER_TYPE_VALID: (ValidationError, "order type must be 'market', 'limit', 'stop' or 'stop_limit'"),
    STAGED_ORDERS_PRICES_VALID: (
        ValidationError,
        f"limit, stop, stop-loss and take-profit prices must each be {_LIMIT}",
    ),
    STAGED_ORDERS_QUANTITY_VALID: (
        ValidationError,
        f"quantity must be {_LIMIT}, with at most 8 decimals",
    ),
    STAGED_ORDERS_REJECTION_REASON_VALID: (ValidationError, "a rejection reason must have 1 to 2000 characters"),
    STAGED_ORDERS_RISK_SCORE_VALID: (ValidationError, "risk score must be between 0 and 100"),
    STAGED_ORDERS_SIDE_VALID: (ValidationError, "side must be 'buy' or 'sell'"),
    STAGED_ORDERS_STATUS_REASON_VALID: (ValidationError, "a reason must have 1 to 2000 characters"),
    STAGED_ORDERS_STATUS_VALID: (InvalidTransition, "unknown order status"),
    STAGED_ORDERS_STOP_PRICE_MATCHES_TYPE: (
        ValidationError,
        "order type and stop price disagree: stop and stop-limit orders need a stop price; "
        "market and limit orders must not have one",
    ),
    STAGED_ORDERS_STRATEGY_ID_FKEY: (ValidationError, "no strategy with that id"),
    STAGED_ORDERS_SUBMITTED_AT_VALID: (
        ValidationError,
        f"submitted_at {_SOON}",
    ),
    STAGED_ORDERS_SYMBOL_VALID: (
        ValidationError,
        f"symbol must be {_SYMBOL}",
    ),
    STAGED_ORDERS_TAGS_ELEMENTS_VALID: (
        ValidationError,
        "tags must be at most 32, each 1-32 letters, digits, '.', '_', ':', '/' or '-', "
        "starting with a letter or digit",
    ),
    STAGED_ORDERS_TAGS_VALID: (ValidationError, "an order has at most 32 tags"),
    STAGED_ORDERS_TIME_IN_FORCE_VALID: (ValidationError, "time in force must be day, gtc, ioc, fok, opg or cls"),
    STAGED_ORDERS_UPDATED_AT_VALID: (
        ValidationError,
        f"updated_at {_SOON}",
    ),
    # stock_prices
    STOCK_PRICES_COUNTS_NONNEGATIVE: (ValidationError, "market cap and shares outstanding cannot be negative"),
    STOCK_PRICES_CREATED_AT_BOUNDED: (
        ValidationError,
        "created_at must lie between 2000-01-01 UTC and one day from now",
    ),
    STOCK_PRICES_HIGH_LOW_RANGE: (ValidationError, "high must be the highest and low the lowest price of the tick"),
    STOCK_PRICES_PRICES_POSITIVE: (ValidationError, "prices must be positive numbers"),
    STOCK_PRICES_SYMBOL_FORMAT: (
        ValidationError,
        "symbol must be 1-10 upper-case letters, digits, '.' or '-', starting with a letter",
    ),
    STOCK_PRICES_TIMESTAMP_BOUNDED: (ValidationError, "timestamp must lie between 2000-01-01 UTC and one day from now"),
    STOCK_PRICES_UPDATED_AT_BOUNDED: (
        ValidationError,
        "updated_at must lie between 2000-01-01 UTC and one day from now",
    ),
    STOCK_PRICES_VOLUME_NONNEGATIVE: (ValidationError, "volume cannot be negative"),
    # strategies
    STRATEGIES_PARAMS_OBJECT: (ValidationError, "strategy params must be a JSON object"),
    STRATEGIES_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    STRATEGIES_DESCRIPTION_VALID: (ValidationError, "strategy description must have 1 to 2000 characters"),
    STRATEGIES_MAX_ORDER_QUANTITY_VALID: (
        ValidationError,
        "max order quantity must be a positive number up to 1,000,000,000",
    ),
    STRATEGIES_MAX_ORDER_VALUE_VALID: (ValidationError, "max order value must be a positive amount up to 1e15"),
    STRATEGIES_MODE_VALID: (ValidationError, "strategy mode must be PAPER or LIVE"),
    STRATEGIES_NAME_KEY: (ValidationError, "a strategy with this name already exists"),
    STRATEGIES_NAME_VALID: (ValidationError, "strategy name must be 1-64 letters, digits, spaces, '.', '_' or '-'"),
    STRATEGIES_TYPE_VALID: (ValidationError, "strategy type must be a lower-case word such as 'manual' or 'momentum'"),
    STRATEGIES_UPDATED_AT_VALID: (
        ValidationError,
        f"updated_at {_SOON}",
    ),
    # strategy_performance
    STRATEGY_PERFORMANCE_WIN_RATE_VALID: (ValidationError, "win rate must be between 0 and 1"),
    STRATEGY_PERFORMANCE_TRADES_VALID: (ValidationError, "trades cannot be negative"),
    STRATEGY_PERFORMANCE_STRATEGY_ID_FKEY: (ValidationError, "no strategy with that id"),
    STRATEGY_PERFORMANCE_RISK_METRICS_OBJECT: (ValidationError, "risk metrics must be a JSON object"),
    STRATEGY_PERFORMANCE_PERIOD_VALID: (ValidationError, "period_end must be after period_start"),
    STRATEGY_PERFORMANCE_PERIOD_KEY: (ValidationError, "performance for that strategy and period is already recorded"),
    STRATEGY_PERFORMANCE_CREATED_AT_VALID: (
        ValidationError,
        f"created_at {_SOON}",
    ),
    STRATEGY_PERFORMANCE_PERIOD_END_VALID: (
        ValidationError,
        "period_end must be on or after 2000-01-01 and at most 1 year from now",
    ),
    STRATEGY_PERFORMANCE_PERIOD_START_VALID: (
        ValidationError,
        "period_start must be on or after 2000-01-01 and at most 1 day from now",
    ),
    # system_events_critical
    SYSTEM_EVENTS_CRITICAL_COMPONENT_VALID: (
        ValidationError,
        f"component must be {_KEY}",
    ),
    SYSTEM_EVENTS_CRITICAL_CREATED_AT_BOUNDED: (
        ValidationError,
        "created_at must lie between 2000-01-01 UTC and one day from now",
    ),
    SYSTEM_EVENTS_CRITICAL_EVENT_TYPE_VALID: (
        ValidationError,
        f"event_type must be {_KEY}",
    ),
    SYSTEM_EVENTS_CRITICAL_MESSAGE_VALID: (ValidationError, "message must be 1-4000 characters"),
    SYSTEM_EVENTS_CRITICAL_TIMESTAMP_BOUNDED: (
        ValidationError,
        "timestamp must lie between 2000-01-01 UTC and one day from now",
    ),
    # system_events_routine
    SYSTEM_EVENTS_ROUTINE_COMPONENT_VALID: (
        ValidationError,
        f"component must be {_KEY}",
    ),
    SYSTEM_EVENTS_ROUTINE_CREATED_AT_BOUNDED: (
        ValidationError,
        "created_at must lie between 2000-01-01 UTC and one day from now",
    ),
    SYSTEM_EVENTS_ROUTINE_EVENT_TYPE_VALID: (
        ValidationError,
        f"event_type must be {_KEY}",
    ),
    SYSTEM_EVENTS_ROUTINE_MESSAGE_VALID: (ValidationError, "message must be 1-4000 characters"),
    SYSTEM_EVENTS_ROUTINE_TIMESTAMP_BOUNDED: (
        ValidationError,
        "timestamp must lie between 2000-01-01 UTC and one day from now",
    ),
    # system_health
    SYSTEM_HEALTH_JSON_OBJECTS: (ValidationError, "health metrics and details must be JSON objects"),
    SYSTEM_HEALTH_CHECKED_AT_VALID: (
        ValidationError,
        f"checked_at {_SOON}",
    ),
    SYSTEM_HEALTH_COMPONENT_VALID: (ValidationError, "component must be 1-64 letters, digits, '.', '_' or '-'"),
    SYSTEM_HEALTH_SCORE_VALID: (ValidationError, "health score must be between 0 and 100"),
    SYSTEM_HEALTH_STATUS_VALID: (ValidationError, "health status must be healthy, degraded, down or unknown"),
    # kill_switch_state
    KILL_SWITCH_STATE_REASON_VALID: (ValidationError, "kill switch reason must have 1 to 2000 characters"),
    KILL_SWITCH_STATE_ACTOR_VALID: (ValidationError, f"kill switch actor must be {_NAME}"),
}


# Conflicts with a concurrent transaction: deadlock_detected, serialization_failure, lock_not_available.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# The server went away under the connection: admin_shutdown, crash_shutdown, cannot_connect_now,
# and class 08 (connection exceptions).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def translate(exc: psycopg.Error) -> OpsDbError:
    """The ops_db error for a psycopg error (a generic OpsDbError when nothing specific fits)."""
    diag = exc.diag
    constraint = diag.constraint_name
    if constraint and constraint in CONSTRAINTS:
        cls, message = CONSTRAINTS[constraint]
        return cls(message)
    sqlstate = diag.sqlstate or ""
    primary = diag.message_primary or str(exc).strip()
    detail = f" ({diag.message_detail})" if diag.message_detail else ""
    if sqlstate in SQLSTATES:
        return SQLSTATES[sqlstate](primary + detail)
    if sqlstate in RETRYABLE_SQLSTATES:
        return RetryableConflict(f"{primary}: nothing was written, try again")
    if sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08"):
        return DatabaseUnavailable(primary)
    if isinstance(exc, pg.UniqueViolation):
        return ValidationError(f"duplicate value violates {constraint or 'a unique key'}{detail}")
    if isinstance(exc, pg.IntegrityError | pg.DataError):
        # Data errors (numeric overflow, bad text, untranslatable characters, datetime overflow,
        # too long for the column) name the column when the server knows it.
        where = ", ".join(part for part in (diag.column_name and f"column {diag.column_name}", constraint) if part)
        return ValidationError(f"{primary}{f' ({where})' if where else ''}{detail}")
    if isinstance(exc, pg.InsufficientPrivilege):
        return PermissionDenied(primary)
    if isinstance(exc, psycopg.OperationalError) and not sqlstate:
        return DatabaseUnavailable(_first_line(str(exc)))
    return OpsDbError(primary + detail)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "connection failed"


@contextmanager
def map_errors() -> Iterator[None]:
    """Re-raise psycopg errors as ops_db errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
