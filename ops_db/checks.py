"""What a violation of each text and time check of migration 0540 means, in words naming the field.

The database refuses; this only says why (errors.register_constraint, read by errors.translate).
"""

from __future__ import annotations

from ops_db.core.errors import ValidationError, register_constraint

_SYMBOL = "1-32 upper-case letters, digits, '.', '/', '-' or spaces, starting with a letter or digit"
_NAME = "1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
_FLOOR = "2000-01-01"

_TEXT: dict[str, str] = {
    "strategies_description_valid": "strategy description must have 1 to 2000 characters",
    "staged_orders_tags_elements_valid": (
        "tags must be at most 32, each 1-32 letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit"
    ),
    "staged_orders_approval_reasons_valid": "approval reasons must be at most 16 printable texts of 1-200 characters",
    "order_events_actor_valid": f"actor must be {_NAME}",
    "order_events_from_status_valid": "from_status of an order event must be an order status",
    "order_events_to_status_valid": "to_status of an order event must be an order status",
    "positions_close_reason_valid": "close reason (reason) must have 1 to 2000 characters",
    "executions_symbol_valid": f"fill symbol must be {_SYMBOL}",
    "executions_side_valid": "fill side must be 'buy' or 'sell'",
    "reconciliation_log_resolved_by_valid": f"resolved_by must be {_NAME}",
    "reconciliation_log_resolution_valid": "resolution must have 1 to 4000 characters",
    "alerts_symbol_valid": f"alert symbol must be {_SYMBOL}",
    "alerts_resolved_by_valid": f"resolved_by must be {_NAME}",
    "alerts_resolution_valid": "resolution must have 1 to 4000 characters",
    "agent_decisions_symbol_valid": f"symbol of an agent decision must be {_SYMBOL}",
    "agent_decisions_reasoning_valid": "reasoning must have 1 to 10000 characters",
    "data_quality_symbol_valid": f"symbol of a data quality check must be {_SYMBOL}",
    "maintenance_runs_error_valid": "a maintenance run's error must have 1 to 20000 characters",
    "retention_hypertable_valid": "hypertable must be a schema-qualified lower-case table name",
    "retention_note_valid": "a retention note must have 1 to 2000 characters",
}

# constraint -> (column as the caller knows it, how far ahead it may be)
_TIMES: dict[str, tuple[str, str]] = {
    "strategies_created_at_valid": ("created_at", "5 minutes"),
    "strategies_updated_at_valid": ("updated_at", "5 minutes"),
    "kill_switch_events_created_at_valid": ("created_at", "5 minutes"),
    "staged_orders_created_at_valid": ("created_at", "5 minutes"),
    "staged_orders_updated_at_valid": ("updated_at", "5 minutes"),
    "staged_orders_expires_at_valid": ("expires_at", "1 year"),
    "staged_orders_approved_at_valid": ("approved_at", "5 minutes"),
    "staged_orders_submitted_at_valid": ("submitted_at", "5 minutes"),
    "staged_orders_executed_at_valid": ("executed_at", "5 minutes"),
    "staged_orders_closed_at_valid": ("closed_at", "5 minutes"),
    "order_events_occurred_at_valid": ("occurred_at", "5 minutes"),
    "positions_opened_at_valid": ("opened_at", "5 minutes"),
    "positions_closed_at_valid": ("closed_at", "5 minutes"),
    "positions_last_marked_at_valid": ("mark time (at, last_marked_at)", "5 minutes"),
    "positions_updated_at_valid": ("updated_at", "5 minutes"),
    "executions_executed_at_valid": ("executed_at", "5 minutes"),
    "executions_created_at_valid": ("created_at", "5 minutes"),
    "portfolio_snapshots_snapshot_at_valid": ("snapshot time (at, snapshot_at)", "5 minutes"),
    "strategy_performance_period_start_valid": ("period_start", "1 day"),
    "strategy_performance_period_end_valid": ("period_end", "1 year"),
    "strategy_performance_created_at_valid": ("created_at", "5 minutes"),
    "performance_metrics_recorded_at_valid": ("recorded_at", "5 minutes"),
    "reconciliation_log_detected_at_valid": ("detected_at", "5 minutes"),
    "reconciliation_log_resolved_at_valid": ("resolved_at", "5 minutes"),
    "daily_stats_trading_date_valid": ("trading date (day)", "1 day"),
    "daily_stats_updated_at_valid": ("updated_at", "5 minutes"),
    "alerts_created_at_valid": ("created_at", "5 minutes"),
    "alerts_resolved_at_valid": ("resolved_at", "5 minutes"),
    "agent_decisions_decided_at_valid": ("decided_at", "5 minutes"),
    "system_health_checked_at_valid": ("checked_at", "5 minutes"),
    "data_quality_checked_at_valid": ("checked_at", "5 minutes"),
    "maintenance_runs_started_at_valid": ("started_at", "5 minutes"),
    "maintenance_runs_finished_at_valid": ("finished_at", "5 minutes"),
    "retention_updated_at_valid": ("updated_at", "5 minutes"),
}

CONSTRAINTS = frozenset(_TEXT) | frozenset(_TIMES)

for _constraint, _message in _TEXT.items():
    register_constraint(_constraint, ValidationError, _message)
for _constraint, (_column, _ahead) in _TIMES.items():
    register_constraint(
        _constraint, ValidationError, f"{_column} must be on or after {_FLOOR} and at most {_ahead} from now"
    )
