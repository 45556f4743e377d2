"""Signals: typed record/read, constraints, and the daily signal performance rollup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import signals
from ops_db.core.errors import ValidationError
from ops_db.signals import NewSignal
from tests.conftest import Server
from tests.market_fixtures import bring_rollups_up_to_date, day_start


def test_record_and_read_signals(db: psycopg.Connection[Any], server: Server) -> None:
    t = day_start(1) + timedelta(hours=15)
    stored = signals.record_signals(db, [
        NewSignal("AAPL", "BUY", Decimal("0.85"), Decimal("200"), Decimal("180"), "breakout", "m1", "mom",
                  {"rsi": 71}, t),
        NewSignal("AAPL", "SELL", Decimal("0.60"), Decimal("180"), Decimal("200"), timestamp=t + timedelta(hours=1)),
        NewSignal("MSFT", "HOLD", Decimal("0.90"), timestamp=t),
    ])
    assert [s.signal_type for s in stored] == ["BUY", "SELL", "HOLD"]
    high = signals.recent_signals(db, since=t - timedelta(days=1), min_confidence=Decimal("0.8"))
    assert {(s.symbol, s.signal_type) for s in high} == {("AAPL", "BUY"), ("MSFT", "HOLD")}
    assert high[0].features in ({"rsi": 71}, None)
    bring_rollups_up_to_date(db, server.edition)
    row = db.execute(
        "SELECT total_signals, buy_signals, sell_signals, avg_confidence, high_confidence_signals"
        " FROM trading.signal_performance_1d WHERE symbol = 'AAPL' AND strategy IS NOT DISTINCT FROM 'mom'"
    ).fetchone()
    assert row == (1, 1, 0, Decimal("0.850000"), 1)
    row = db.execute("SELECT sum(total_signals) FROM trading.signal_performance_1d WHERE symbol = 'AAPL'").fetchone()
    assert row == (2,)


def test_signal_nonsense_refused_and_nothing_written(db: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValidationError, match="stop loss must be below its target"):
        signals.record_signals(db, [NewSignal("AAPL", "HOLD", Decimal("0.5"), timestamp=now),
                                    NewSignal("AAPL", "BUY", Decimal("0.5"), Decimal("100"), Decimal("110"))])
    with pytest.raises(ValidationError, match="confidence must be between 0 and 1"):
        signals.record_signals(db, [NewSignal("AAPL", "BUY", Decimal("1.5"))])
    assert signals.recent_signals(db, since=now - timedelta(days=1)) == []
