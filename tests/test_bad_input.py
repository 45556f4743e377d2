"""One contract for bad input, over EVERY public function of ops_db (issue 10, item 7).

The functions are found by introspection (PUBLIC_MODULES below), so a new public
function without a baseline call here fails `test_every_public_function_has_cases`. For each,
bad inputs are derived from the annotation of every parameter (wrong types, naive datetimes,
far-future and pre-2000 times, empty and 100 000-character strings, lone surrogates, NUL, huge
ints, NaN/infinity, 30-decimal numbers, a string or a generator where a list goes, a list where
a mapping goes, mappings holding Decimal/datetime/NaN, negative and zero quantities, bad rows
inside batches). Each case must end in an OpsDbError whose message names the field, with the
row counts of every table in trading and ops_internal unchanged and the caller's transaction
still usable (SELECT 1 inside it).

Cases the domain modules do not handle yet are listed in KNOWN_GAPS with what happens; the
test fails when a listed gap is fixed (remove it) or an unlisted case fails. The catalog test
at the end checks that every text column of schema trading has a CHECK constraint.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ops_db import market, signals
from ops_db.core import contract as validate
from ops_db.core.errors import OpsDbError
from ops_db.model import ledger as model
from tests import ledger_helpers as lh

# The modules whose public functions make up the application API (sync; their async sources are
# tested in tests/test_async_ledger.py and tests/test_async_market.py, and tests/test_async_api.py
# holds each pair to the same functions and the same contract).
PUBLIC_MODULES = (
    "ops_db.events",
    "ops_db.market",
    "ops_db.ledger.alerts",
    "ops_db.ledger.kill_switch",
    "ops_db.ledger.orders",
    "ops_db.ledger.positions",
    "ops_db.ledger.strategies",
    "ops_db.monitoring",
    "ops_db.ops.rollups",
    "ops_db.signals",
    "ops_db.ops.system",
)

NOW = datetime.now(UTC)
FAR = datetime(9999, 12, 31, tzinfo=UTC)
OLD = datetime(1900, 1, 1, tzinfo=UTC)
LONG = "x" * 100_000
THIRTY = Decimal("1." + "1" * 30)

# Functions that only read: a string or time that matches nothing is an answer (none), not an error.
READS = {
    "recent_system_events", "bars", "latest_prices", "options_chain", "put_call_ratios", "rsi",
    "bollinger_bands", "moving_average", "vwap", "latest_system_health", "get_order",
    "get_order_by_client_id", "get_order_by_broker_id", "list_orders", "order_events",
    "order_executions", "open_positions", "position_by_symbol", "closed_positions",
    "portfolio_history", "latest_portfolio_snapshot", "get_strategy", "strategy_by_name",
    "list_strategies", "unresolved_alerts", "unresolved_reconciliation_issues", "daily_stats",
    "today_pnl", "order_to_trade_ratio", "kill_switch_state", "rollup_status", "recent_signals",
    "server_facts", "order_updates", "order_ids_of", "read_update", "kill_switch_blockers",
    "terminate_session",
}
# Parameters that must be positive (zero and negative refused).
POSITIVE = {
    "quantity", "price", "limit_price", "stop_price", "stop_loss", "take_profit", "limit", "period",
    "batch_size", "num_std", "max_order_quantity", "max_order_value", "target_price", "strike_price",
    "close_price", "open_price", "high_price", "low_price", "vwap",
}
# Columns with a fixed number of decimals (a 30-decimal value cannot be stored exactly).
SCALED = {
    "quantity", "close_price", "open_price", "high_price", "low_price", "vwap", "strike_price", "bid_price",
    "ask_price", "last_price", "confidence", "target_price", "stop_loss", "implied_volatility", "delta",
    "gamma", "theta", "vega", "rho", "intrinsic_value", "time_value", "price",
}
# Words a message may use for a parameter besides its own name.
ALIASES: dict[str, tuple[str, ...]] = {
    "created_by": ("user staging an order",),
    "approver": ("approver",),
    "order_id": ("order",),
    "strategy_id": ("strategy",),
    "alert_id": ("alert",),
    "issue_id": ("issue", "reconciliation"),
    "at": ("mark time", "snapshot time", "checked_at", "recorded_at", "decided_at"),
    "day": ("trading date",),
    "limit_price": ("prices",),
    "stop_price": ("prices",),
    "stop_loss": ("prices", "stop"),
    "take_profit": ("prices",),
    "quantity": ("quantity",),
    "price": ("price",),
    "reason": ("reason",),
    "name": ("name",),
    "ticks": ("row",),
    "quotes": ("row",),
    "events": ("row",),
    "signals": ("signal",),
    "symbol": ("position",),  # "no open position in X": a lookup by symbol found nothing
    "actor": ("who switches", "approver"),  # screening approves in the actor's name
    "limit": ("page size",),
    "expires_at": ("expire",),
    "our_price": ("prices",),
    "broker_price": ("prices",),
    "our_quantity": ("quantities",),
    "broker_quantity": ("quantities",),
}
# Functions whose valid call is refused here by design, with why; their bad cases still run.
BASELINE_REFUSED: dict[str, str] = {
    "ledger.orders.order_updates": "reads notifications only on an autocommit connection; the test's is in a "
    "transaction",
    "ops.rollups.refresh_continuous_aggregates": "continuous aggregates exist on the timescale edition only",
}


# ----------------------------------------------------------------------------------------------
# Baselines: one valid call per public function (kwargs besides conn)


@dataclasses.dataclass
class World:
    strategy_id: int
    staged: int
    pending: int
    approved: int
    submitted: int
    alert_id: int
    issue_id: int
    client_order_id: str
    broker_order_id: str


def _tick(**change: Any) -> market.PriceTick:
    base = market.PriceTick("BADIN", NOW - timedelta(minutes=1), Decimal("10.5"), 100, Decimal(10), Decimal(11),
                            Decimal(10), Decimal("10.5"))
    return dataclasses.replace(base, **change)


def _quote(**change: Any) -> market.OptionQuote:
    base = market.OptionQuote("BADIN260116C00010000", "BADIN", NOW - timedelta(minutes=1), date(2026, 1, 16),
                              Decimal(10), "CALL", Decimal(1), Decimal("1.1"), Decimal("1.05"), 10, 100)
    return dataclasses.replace(base, **change)


def _event(**change: Any) -> market.MarketEvent:
    base = market.MarketEvent("BADIN", NOW - timedelta(minutes=1), "earnings", Decimal(10), 5, {"q": 1})
    return dataclasses.replace(base, **change)


def _signal(**change: Any) -> signals.NewSignal:
    base = signals.NewSignal("BADIN", "BUY", Decimal("0.8"), Decimal(12), Decimal(9), "why", "v1", "s",
                             {"f": 1}, NOW - timedelta(minutes=1), NOW + timedelta(hours=1))
    return dataclasses.replace(base, **change)


RECORDS: dict[type, Callable[..., Any]] = {
    market.PriceTick: _tick, market.OptionQuote: _quote, market.MarketEvent: _event, signals.NewSignal: _signal,
}


def baselines(w: World) -> dict[str, dict[str, Any]]:
    day = NOW - timedelta(days=1)
    return {
        "events.record_system_event": {"severity": "INFO", "component": "feed", "event_type": "started",
                                       "message": "hello", "details": {"a": 1}, "timestamp": NOW},
        "events.recent_system_events": {"since": day, "min_severity": "INFO", "component": "feed", "limit": 10},
        "market.ingest_prices": {"ticks": [_tick()]},
        "market.ingest_price_stream": {"ticks": [_tick()], "batch_size": 10},
        "market.ingest_options": {"quotes": [_quote()]},
        "market.ingest_events": {"events": [_event()]},
        "market.bars": {"symbol": "BADIN", "interval": "1m", "start": day, "end": NOW},
        "market.latest_prices": {"symbols": ["BADIN"]},
        "market.options_chain": {"underlying": "BADIN", "expires_from": date(2026, 1, 1),
                                 "expires_to": date(2026, 2, 1), "quoted_since": day},
        "market.put_call_ratios": {"start": day, "end": NOW},
        "market.rsi": {"symbol": "BADIN", "period": 14, "interval": timedelta(minutes=5), "since": day},
        "market.bollinger_bands": {"symbol": "BADIN", "period": 20, "num_std": Decimal(2),
                                   "interval": timedelta(minutes=5), "since": day},
        "market.moving_average": {"symbol": "BADIN", "period": 20, "interval": timedelta(minutes=5), "since": day},
        "market.vwap": {"symbol": "BADIN", "start": day, "end": NOW},
        "monitoring.record_system_health": {"component": "feed", "status": "healthy", "health_score": Decimal(90),
                                            "metrics": {"lag": 1}, "details": {}, "at": NOW},
        "monitoring.latest_system_health": {},
        "monitoring.record_data_quality": {"source": "feed", "check_name": "gaps", "passed": True, "symbol": "AAPL",
                                           "score": Decimal(99), "details": {}, "at": NOW},
        "monitoring.record_agent_decision": {"agent": "bot", "action": "hold", "symbol": "AAPL",
                                             "order_id": w.staged, "confidence": Decimal("0.5"), "reasoning": "why",
                                             "inputs": {}, "outcome": {}, "at": NOW},
        "monitoring.record_performance_metric": {"metric": "latency_ms", "value": Decimal(3),
                                                 "strategy_id": w.strategy_id, "labels": {"k": "v"}, "at": NOW},
        "ledger.orders.stage_order": {"client_order_id": "bad-input-new", "strategy_id": w.strategy_id,
                                      "symbol": "AAPL", "side": "buy", "order_type": "limit", "quantity": Decimal(10),
                                      "limit_price": Decimal(10), "created_by": "alice",
                                      "expires_at": NOW + timedelta(days=1),
                                      "metadata": {"n": "x"}, "tags": ["swing"], "risk_score": Decimal(10)},
        "ledger.orders.screen_order": {"order_id": w.staged, "actor": "system"},
        "ledger.orders.approve_order": {"order_id": w.pending, "approver": "bob"},
        "ledger.orders.reject_order": {"order_id": w.staged, "actor": "bob", "reason": "too big"},
        "ledger.orders.submit_order": {"order_id": w.approved, "broker_order_id": "BRK-NEW-1", "actor": "system"},
        "ledger.orders.cancel_order": {"order_id": w.staged, "actor": "alice", "reason": "changed my mind"},
        "ledger.orders.expire_order": {"order_id": w.staged, "actor": "system", "reason": "end of day"},
        "ledger.orders.expire_due_orders": {"now": NOW, "actor": "system"},
        "ledger.orders.record_fill": {"order_id": w.submitted, "quantity": Decimal(10), "price": Decimal(10),
                                      "commission": Decimal(1), "fees": Decimal(0), "venue": "XNAS",
                                      "broker_trade_id": "T-NEW-1", "executed_at": NOW, "actor": "broker"},
        "ledger.orders.get_order": {"order_id": w.staged},
        "ledger.orders.get_order_by_client_id": {"client_order_id": w.client_order_id},
        "ledger.orders.get_order_by_broker_id": {"broker_order_id": w.broker_order_id},
        "ledger.orders.today_status_counts": {},
        "ledger.orders.list_orders": {"statuses": ["staged"], "symbol": "AAPL", "strategy_id": w.strategy_id,
                                      "since": day, "until": NOW + timedelta(minutes=1), "limit": 10},
        "ledger.orders.order_events": {"order_id": w.staged},
        "ledger.orders.order_executions": {"order_id": w.submitted},
        "ledger.orders.order_ids_of": {"payload": '{"order_id": 1, "event_id": 2}'},
        "ledger.orders.read_update": {"order_id": w.staged, "event_id": 1},
        "ledger.orders.order_updates": {"timeout": 0.01, "stop_after": 1},
        "ledger.positions.open_positions": {},
        "ledger.positions.position_by_symbol": {"symbol": "AAPL"},
        "ledger.positions.closed_positions": {"since": day, "until": NOW},
        "ledger.positions.mark_to_market": {"symbol": "AAPL", "price": Decimal(11), "at": NOW},
        "ledger.positions.close_position": {"symbol": "AAPL", "price": Decimal(11), "reason": "flat"},
        "ledger.positions.take_portfolio_snapshot": {"cash_balance": Decimal(1000), "at": NOW, "details": {"k": 1}},
        "ledger.positions.portfolio_history": {"since": day, "until": NOW},
        "ledger.positions.latest_portfolio_snapshot": {},
        "ledger.strategies.create_strategy": {"name": "bad-input-strategy", "strategy_type": "manual", "mode": "PAPER",
                                              "active": True, "requires_approval": False,
                                              "max_order_quantity": Decimal(10),
                                              "max_order_value": Decimal(1000), "description": "d", "params": {"k": 1}},
        "ledger.strategies.get_strategy": {"strategy_id": w.strategy_id},
        "ledger.strategies.strategy_by_name": {"name": "x"},
        "ledger.strategies.list_strategies": {"active_only": True},
        "ledger.strategies.set_strategy_active": {"strategy_id": w.strategy_id, "active": False},
        "ledger.alerts.raise_alert": {"alert_type": "risk_limit", "severity": "WARNING", "message": "m",
                                      "source": "risk", "symbol": "AAPL", "details": {}},
        "ledger.alerts.resolve_alert": {"alert_id": w.alert_id, "resolved_by": "bob", "resolution": "fine"},
        "ledger.alerts.unresolved_alerts": {},
        "ledger.alerts.log_reconciliation_issue": {"symbol": "AAPL", "issue_type": "quantity_mismatch",
                                                   "our_quantity": Decimal(1), "broker_quantity": Decimal(2),
                                                   "our_price": Decimal(1), "broker_price": Decimal(1),
                                                   "order_id": w.staged,
                                                   "details": {}},
        "ledger.alerts.resolve_reconciliation_issue": {"issue_id": w.issue_id, "resolved_by": "bob",
                                                       "resolution": "fine"},
        "ledger.alerts.unresolved_reconciliation_issues": {},
        "ledger.positions.refresh_daily_stats": {"day": NOW.date()},
        "ledger.positions.daily_stats": {"day": NOW.date()},
        "ledger.positions.today_pnl": {},
        "ledger.positions.order_to_trade_ratio": {},
        "ledger.kill_switch.activate_kill_switch": {"reason": "test halt", "actor": "alice"},
        "ledger.kill_switch.deactivate_kill_switch": {"reason": "test resume", "actor": "alice"},
        "ledger.kill_switch.kill_switch_state": {},
        "ledger.kill_switch.kill_switch_blockers": {},
        "ledger.kill_switch.terminate_session": {"pid": 0},  # no such backend: the server answers false
        "ops.rollups.refresh_rollups": {"dry_run": True},
        "ops.rollups.apply_retention": {"dry_run": True},
        "ops.rollups.rollup_status": {},
        "ops.rollups.refresh_continuous_aggregates": {"start": day, "end": NOW},
        "signals.record_signals": {"signals": [_signal()]},
        "signals.recent_signals": {"since": day, "symbol": "BADIN", "min_confidence": Decimal("0.1"), "limit": 10},
        "ops.system.server_facts": {},
        "ops.system.capabilities": {"edition": "apache"},
        "ops.system.refuse_read_only": {"command": "ops-db test"},
    }


# Public functions with no case, each with its reason.
EXEMPT: dict[str, str] = {}


def public_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name, func in validate.public_functions(module).items():
            found[f"{module_name.removeprefix('ops_db.')}.{name}"] = func
    return found


# ----------------------------------------------------------------------------------------------
# Bad values, from each parameter's annotation


@dataclasses.dataclass(frozen=True)
class Case:
    function: str
    param: str
    label: str
    category: str
    value: Any
    names: tuple[str, ...]  # any of these in the message names the field

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.function, self.param, self.label)


def _gen(items: list[Any]) -> Iterator[Any]:
    yield from items


def _strip_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return hint


def _scalar_bad(param: str, hint: Any, write: bool, scaled: bool = True) -> Iterator[tuple[str, str, Any]]:
    """(label, category, value) for a scalar parameter."""
    if hint is str:
        if write:
            yield "empty", "empty string", ""
            yield "100k", "100 000-char string", LONG
        yield "surrogate", "lone surrogate", "ab\ud800"
        yield "nul", "NUL", "a\x00b"
        yield "int", "wrong type", 12345
    elif hint is datetime:
        yield "naive", "naive datetime", NOW.replace(tzinfo=None)
        yield "str", "wrong type", "2026-01-01"
        if write:
            yield "9999", "far-future/past time", FAR
            yield "1900", "far-future/past time", OLD
    elif hint is date:
        yield "str", "wrong type", "2026-01-01"
        if write:
            yield "9999", "far-future/past time", date(9999, 12, 31)
    elif hint is int:
        yield "2**63", "huge int", 2**63
        yield "str", "wrong type", "1"
        if param in POSITIVE:
            yield "zero", "negative/zero", 0
            yield "negative", "negative/zero", -5
    elif hint is Decimal:
        yield "nan", "NaN/inf", Decimal("NaN")
        yield "inf", "NaN/inf", Decimal("Infinity")
        yield "str", "wrong type", "12"
        if param in SCALED and write and scaled:
            yield "30 decimals", "30 decimals", THIRTY
        if param in POSITIVE and write:
            yield "zero", "negative/zero", Decimal(0)
            yield "negative", "negative/zero", Decimal(-5)
    elif hint is float:
        yield "nan", "NaN/inf", float("nan")
        yield "str", "wrong type", "1"
    elif hint is bool:
        yield "str", "wrong type", "yes"
    elif hint is timedelta:
        yield "int", "wrong type", 300
        yield "negative", "negative/zero", timedelta(minutes=-5)
        yield "zero", "negative/zero", timedelta(0)


def cases_for(function: str, func: Callable[..., Any], baseline: dict[str, Any]) -> list[Case]:
    inner = getattr(func, "__wrapped__", func)
    hints = typing.get_type_hints(inner)
    name = function.rsplit(".", 1)[1]
    write = name not in READS
    found: list[Case] = []
    params = inspect.signature(inner).parameters
    if "conn" in params:
        found.append(Case(function, "conn", "None", "wrong type", None, ("conn",)))
    for param in baseline:
        hint = _strip_optional(hints.get(param, Any))
        names = (param, param.replace("_", " "), *ALIASES.get(param, ()))

        def add(label: str, category: str, value: Any, extra: tuple[str, ...] = (), p: str = param,
                n: tuple[str, ...] = names) -> None:
            found.append(Case(function, p, label, category, value, n + extra))

        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (collections.abc.Mapping, dict) or hint is dict:
            add("list", "list for a mapping", [1, 2])
            add("decimal inside", "non-JSON inside JSON", {"x": Decimal("1.5")})
            add("datetime inside", "non-JSON inside JSON", {"x": NOW})
            add("nan inside", "NaN/inf", {"x": float("nan")})
            add("nul inside", "NUL", {"x": "a\x00"})
        elif origin in (collections.abc.Sequence, collections.abc.Iterable, list):
            item = args[0] if args else Any
            if origin is not collections.abc.Iterable:
                add("str", "str for a list", "urgent" if item is str else "x")
                add("generator", "generator", _gen(list(baseline[param])))
            if item is str:
                add("nul element", "NUL", ["a\x00b"])
                if write:
                    add("empty element", "empty string", [""])
                    add("100k element", "100 000-char string", [LONG])
            elif item in RECORDS:
                make = RECORDS[item]
                item_hints = typing.get_type_hints(item)
                for field in dataclasses.fields(item):
                    field_hint = _strip_optional(item_hints[field.name])
                    for label, category, value in _scalar_bad(field.name, field_hint, True):
                        if field_hint is str and label == "empty" and field.name not in ("symbol",):
                            continue  # an empty optional text is checked via its own rule below
                        try:
                            record = make(**{field.name: value})
                        except Exception:  # noqa: S112 - a dataclass may refuse it itself
                            continue
                        add(f"{field.name} {label}", category, [record], (field.name, field.name.replace("_", " ")))
        elif origin is typing.Literal:
            add("unknown", "wrong type", "7m")
        elif isinstance(hint, type) and hint is model.OrderCursor:
            add("str", "wrong type", "cursor")
        else:
            # Ledger prices are unconstrained numeric (held exactly); quantities keep 8 decimals.
            scaled = param == "quantity" or not function.startswith(("ledger.", "monitoring."))
            for label, category, value in _scalar_bad(param, hint, write, scaled):
                add(label, category, value)
    return found


# ----------------------------------------------------------------------------------------------
# Known gaps: cases a domain module does not handle yet (owner, what happens). Filled from the
# run; the lead removes each when its module is fixed.

KNOWN_GAPS: dict[tuple[str, str, str], str] = {}


# ----------------------------------------------------------------------------------------------
# Running the cases


class _Discard(Exception):
    """Raised to roll the case's savepoint back, whatever the call did."""


def _tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname IN ('trading', 'ops_internal') AND c.relkind IN ('r', 'p') ORDER BY 1, 2"
    ).fetchall()
    return [(str(schema), str(table)) for schema, table in rows]


def _counts_query(tables: list[tuple[str, str]]) -> sql.Composed:
    parts = [
        sql.SQL("SELECT {}::text, count(*) FROM {}").format(sql.Literal(f"{s}.{t}"), sql.Identifier(s, t))
        for s, t in tables
    ]
    return sql.SQL(" UNION ALL ").join(parts)


def _world(conn: psycopg.Connection[Any]) -> World:
    strategy = lh.strategy(conn)
    staged = lh.order_in(conn, strategy.id, "staged", client_order_id="bad-input-staged")
    pending = lh.order_in(conn, strategy.id, "pending_approval")
    approved = lh.order_in(conn, strategy.id, "approved")
    submitted = lh.order_in(conn, strategy.id, "submitted")
    lh.order_in(conn, strategy.id, "filled")  # an open AAPL position
    from ops_db.ledger import alerts

    alert = alerts.raise_alert(conn, "risk_limit", "WARNING", "seed")
    issue = alerts.log_reconciliation_issue(conn, "AAPL", "quantity_mismatch")
    assert submitted.broker_order_id is not None
    return World(strategy.id, staged.id, pending.id, approved.id, submitted.id, alert.id, issue.id,
                 staged.client_order_id, submitted.broker_order_id)


def _call(func: Callable[..., Any], conn: Any, kwargs: dict[str, Any]) -> Any:
    inner = getattr(func, "__wrapped__", func)
    params = inspect.signature(inner).parameters
    positional = [p for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "conn"]
    args = [kwargs[p.name] for p in positional if p.name in kwargs]
    rest = {k: v for k, v in kwargs.items() if k not in {p.name for p in positional}}
    result = func(conn, *args, **rest) if "conn" in params else func(*args, **rest)
    if inspect.isgenerator(result):
        result = list(result)
    return result


def run_case(conn: psycopg.Connection[Any], counts: sql.Composed, func: Callable[..., Any],
             kwargs: dict[str, Any], case: Case | None) -> str | None:
    """None when the case held; otherwise what happened."""
    outcome: str | None = None
    with contextlib.suppress(_Discard), conn.transaction():
        before = conn.execute(counts).fetchall()
        call_conn: Any = conn
        if case is not None:
            if case.param == "conn":
                call_conn = case.value
            else:
                kwargs = {**kwargs, case.param: case.value}
        try:
            _call(func, call_conn, kwargs)
        except OpsDbError as exc:
            message = str(exc).lower()
            if case is None:
                outcome = f"baseline refused: {type(exc).__name__}: {exc}"
            elif not any(name.lower() in message for name in case.names):
                outcome = f"message does not name the field: {type(exc).__name__}: {str(exc)[:160]}"
        except Exception as exc:
            outcome = f"raw {type(exc).__name__}: {str(exc)[:160]}"
        else:
            if case is not None:
                outcome = "accepted"
        try:
            usable = conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error as exc:
            usable = False
            outcome = f"{outcome or 'refused'}; caller's transaction unusable ({type(exc).__name__})"
        if usable and case is not None and outcome is None and conn.execute(counts).fetchall() != before:
            outcome = "refused but rows changed"
        raise _Discard
    return outcome


@pytest.fixture
def world(db: psycopg.Connection[Any]) -> World:
    return _world(db)


def test_every_public_function_has_the_contract() -> None:
    bare = sorted(name for name, func in public_functions().items() if not getattr(func, "__ops_db_contract__", False))
    assert not bare, f"public functions without @api (ops_db.core.contract): {bare}"


def test_every_public_function_has_cases(world: World) -> None:
    functions = public_functions()
    table = baselines(world)
    missing = sorted(set(functions) - set(table) - set(EXEMPT))
    stale = sorted((set(table) | set(EXEMPT)) - set(functions))
    assert not missing, f"public functions without a bad-input baseline: {missing}"
    assert not stale, f"baselines for functions that no longer exist: {stale}"


@pytest.mark.parametrize("module_name", [m.removeprefix("ops_db.") for m in PUBLIC_MODULES])
def test_bad_input_is_refused_naming_the_field(db: psycopg.Connection[Any], world: World, module_name: str) -> None:
    counts = _counts_query(_tables(db))
    table = baselines(world)
    failures: dict[tuple[str, str, str], str] = {}
    tried: collections.Counter[str] = collections.Counter()
    held: collections.Counter[str] = collections.Counter()
    for function, func in sorted(public_functions().items()):
        if not function.startswith(module_name + ".") or function in EXEMPT:
            continue
        baseline = table[function]
        problem = run_case(db, counts, func, baseline, None)
        if function not in BASELINE_REFUSED:
            assert problem is None, f"{function}: the valid baseline call failed: {problem}"
        for case in cases_for(function, func, baseline):
            tried[case.category] += 1
            outcome = run_case(db, counts, func, baseline, case)
            if outcome is None:
                held[case.category] += 1
            else:
                failures[case.key] = outcome
    known = {key: why for key, why in KNOWN_GAPS.items() if key[0].startswith(module_name + ".")}
    unexpected = {key: why for key, why in failures.items() if key not in known}
    fixed = sorted(key for key in known if key not in failures)
    report = "\n".join(f"  {k}: {v}" for k, v in sorted(unexpected.items()))
    print(f"\nCOUNTS {module_name}: " + ", ".join(f"{c} {held[c]}/{n}" for c, n in sorted(tried.items())))
    print("FAILURES " + repr(failures))
    assert not unexpected, f"{len(unexpected)} bad inputs not refused as the contract says:\n{report}"
    assert not fixed, f"known gaps that now hold (remove them from KNOWN_GAPS): {fixed}"


# ----------------------------------------------------------------------------------------------
# The catalog: every text column of schema trading has a CHECK constraint that mentions it.

# (table, column): why no check is needed.
_ROLLUP = (
    "apache edition: a rollup table written only by ops_internal.materialize_rollup from the checked raw "
    "table (a continuous aggregate on the timescale edition); ops_app and ops_readonly cannot write it"
)
TEXT_CHECK_EXEMPT: dict[tuple[str, str], str] = {
    **{(f"stock_prices_{b}", "symbol"): _ROLLUP for b in ("1m", "5m", "1h", "1d")},
    ("options_volume_1h", "underlying_symbol"): _ROLLUP,
    ("signal_performance_1d", "symbol"): _ROLLUP,
    ("signal_performance_1d", "strategy"): _ROLLUP,
    ("order_events", "login_role"): "set by the audit trigger from session_user (a role name, at most 63 bytes); "
    "no client writes the trail",
}


def test_every_text_column_in_trading_has_a_check(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'trading' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'text[]'::regtype, 'varchar[]'::regtype)
           AND NOT EXISTS (
                 SELECT 1 FROM pg_constraint k
                  WHERE k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey))
         ORDER BY 1, 2
        """
    ).fetchall()
    unchecked = [(str(t), str(col)) for t, col, _ in rows if (str(t), str(col)) not in TEXT_CHECK_EXEMPT]
    listing = "\n".join(f"  trading.{t}.{col}" for t, col in unchecked)
    print(f"\ntext columns without a CHECK ({len(unchecked)}):\n{listing}")
    assert not unchecked, f"{len(unchecked)} text columns of schema trading have no CHECK constraint:\n{listing}"
