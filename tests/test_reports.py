"""The three HTML reports, rendered in headless Chromium: sections, numbers equal to what the typed
functions return, empty states, values escaped, no console message, a screenshot that is not blank."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest

from ops_db.cli import main
from ops_db.ledger import orders, positions, strategies
from ops_db.reports.html import write_atomic
from tests import browser

ORDER_SECTIONS = ("summary", "by-status", "approval-queue", "risk", "compliance", "rejections", "fills", "pnl",
                  "positions")
HEALTH_SECTIONS = ("overall", "checks", "maintain", "rollups", "backups", "sizes", "replication")
MARKET_SECTIONS = ("summary", "candles", "rsi", "bars")


class _Dom(HTMLParser):
    """What the tests read off the rendered DOM: sections, elements by tag, card values, table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tags: dict[str, int] = {}
        self.cards: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._card: str | None = None
        self._in_value = False
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "section" and found.get("data-section"):
            self.sections.append(str(found["data-section"]))
        if found.get("data-card"):
            self._card = found["data-card"]
        if tag == "div" and found.get("class") == "value" and self._card:
            self._in_value = True
        if tag == "table" and found.get("data-table"):
            self._table = str(found["data-table"])
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_value:
            self._in_value = False
            self._card = None
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._table is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_value and self._card:
            self.cards[self._card] = self.cards.get(self._card, "") + data.strip()
        if self._cell is not None:
            self._cell.append(data)


def _open(page: Path) -> tuple[_Dom, browser.Rendered]:
    rendered = browser.render(page)
    assert rendered.console == [], f"console messages in {page.name}: {rendered.console}"
    assert browser.png_colours(rendered.png) >= 16, f"the screenshot of {page.name} looks blank"
    dom = _Dom()
    dom.feed(rendered.dom)
    assert dom.tags.get("script", 0) == 0, f"{page.name} holds a script element"
    return dom, rendered


def _report(args: list[str]) -> None:
    assert main(["report", *args]) == 0, args


@pytest.fixture
def demo_db(fresh_db: str) -> str:
    assert main(["demo", "--url", fresh_db]) == 0
    return fresh_db


def test_the_detector_sees_console_messages_and_blank_pages(tmp_path: Path) -> None:
    """The checks below can fail: a script's console.error and a blocked fetch are both seen, and an
    empty page counts as blank."""
    noisy = tmp_path / "noisy.html"
    noisy.write_text('<html><body><p>x</p><script>console.error("boom")</script>'
                     '<img src="http://127.0.0.1:9/nothing.png"></body></html>')
    seen = browser.render(noisy)
    assert any("boom" in line for line in seen.console), seen.console
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    assert browser.png_colours(browser.render(blank).png) < 4


def test_reports_on_an_empty_database_render_their_empty_states(fresh_db: str, tmp_path: Path) -> None:
    _report(["orders", "--url", fresh_db, "--html", str(tmp_path / "orders.html")])
    _report(["health", "--url", fresh_db, "--html", str(tmp_path / "health.html"), "--refresh", "30"])
    _report(["market", "AAPL", "--url", fresh_db, "--html", str(tmp_path / "market.html")])
    dom, _ = _open(tmp_path / "orders.html")
    assert tuple(dom.sections) == ORDER_SECTIONS
    assert dom.cards["orders"] == "0" and dom.cards["order-to-trade ratio"] == "—"
    text = " ".join(dom.text)
    for empty in ("nothing awaits approval", "no fills in this period", "no open positions", "no data"):
        assert empty in text
    dom, rendered = _open(tmp_path / "health.html")
    assert tuple(s for s in dom.sections if s != "jobs") == HEALTH_SECTIONS
    assert '<meta http-equiv="refresh" content="30">' in rendered.dom
    dom, _ = _open(tmp_path / "market.html")
    assert tuple(dom.sections) == MARKET_SECTIONS
    assert dom.cards["bars"] == "0" and "no bars for AAPL in this window" in " ".join(dom.text)


def test_order_review_shows_what_the_typed_functions_return(demo_db: str, tmp_path: Path) -> None:
    page = tmp_path / "orders.html"
    _report(["orders", "--url", demo_db, "--html", str(page), "--since", "30d"])
    dom, _ = _open(page)
    assert tuple(dom.sections) == ORDER_SECTIONS
    with psycopg.connect(demo_db) as conn:
        since = datetime.now(UTC) - timedelta(days=30)
        staged = orders.list_orders(conn, since=since, limit=1000).orders
        queue = [o for o in staged if o.status == "pending_approval"]
        held = positions.open_positions(conn)
        ratio = positions.order_to_trade_ratio(conn)
    assert dom.cards["orders"] == f"{len(staged):,}"
    assert dom.cards["open orders"] == f"{sum(1 for o in staged if o.is_open):,}"
    assert dom.cards["awaiting approval"] == str(len(queue))
    assert dom.cards["order-to-trade ratio"] == (f"{ratio:,.2f}" if ratio is not None else "—")
    assert len(dom.tables.get("positions", [])) == len(held)
    assert sorted(row[0] for row in dom.tables.get("positions", [])) == sorted(p.symbol for p in held)
    assert len(dom.tables.get("approval-queue", [])) == len(queue)
    totals = {row[0]: int(row[-1].replace(",", "")) for row in dom.tables["by-status"]}
    assert sum(totals.values()) == len(staged)
    fills = dom.tables["fills"]
    assert fills, "the demo records fills"
    assert all(re.fullmatch(r"-?[\d,]+\.\d\d|—", row[9]) for row in fills)


def test_health_dashboard_lists_every_check(demo_db: str, tmp_path: Path) -> None:
    page = tmp_path / "health.html"
    _report(["health", "--url", demo_db, "--html", str(page)])
    dom, rendered = _open(page)
    assert tuple(s for s in dom.sections if s != "jobs") == HEALTH_SECTIONS  # jobs: timescale edition only
    from ops_db.ops.health import run_checks

    expected = {r.name: r.status.name for r in run_checks(demo_db).results}
    shown = {row[0]: row[1] for row in dom.tables["checks"]}
    assert shown.keys() == expected.keys()
    assert all(shown[name] in ("OK", "WARNING", "CRITICAL", "UNKNOWN") for name in shown)
    assert '<meta http-equiv="refresh" content="60">' in rendered.dom
    assert {row[0] for row in dom.tables["rollups"]} >= {"trading.stock_prices_1m", "trading.stock_prices_1d"}


def test_market_page_draws_the_bars_the_api_returns(demo_db: str, tmp_path: Path) -> None:
    page = tmp_path / "market.html"
    _report(["market", "aapl", "--url", demo_db, "--html", str(page), "--interval", "5m"])
    dom, rendered = _open(page)
    assert tuple(dom.sections) == MARKET_SECTIONS
    bars = int(dom.cards["bars"].replace(",", ""))
    assert bars > 20
    assert rendered.dom.count('class="candle"') == bars
    assert {"SMA 20", "EMA 20", "Bollinger upper", "Bollinger lower", "RSI"} <= set(
        re.findall(r'data-series="([^"]+)"', rendered.dom))
    assert main(["report", "market", "AAPL", "--url", demo_db, "--html", str(page), "--interval", "2m"]) != 0


def test_values_from_the_database_stay_text(fresh_db: str, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>'
    with psycopg.connect(fresh_db) as conn:
        strategy = strategies.create_strategy(conn, "Escaping test")  # names allow no markup
        order = orders.stage_order(conn, client_order_id="evil-1", strategy_id=strategy.id, symbol="AAPL",
                                   side="buy", order_type="limit", quantity=Decimal(1), limit_price=Decimal(10),
                                   created_by="tester", compliance_flags={"<b>check</b>": {"passed": False}})
        orders.screen_order(conn, order.id)
        orders.reject_order(conn, order.id, "risk-desk", f"reason {hostile} <img src=x onerror=alert(1)>")
        conn.commit()
    page = tmp_path / "orders.html"
    _report(["orders", "--url", fresh_db, "--html", str(page)])
    dom, _ = _open(page)
    text = " ".join(dom.text)
    assert hostile in text and "<img src=x onerror=alert(1)>" in text and "<b>check</b>" in text
    assert dom.tags.get("img", 0) == 0 and dom.tags.get("b", 0) == 0


def test_pages_are_written_atomically(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    write_atomic(page, "old")
    write_atomic(page, "new")
    assert page.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"], "no temporary file left behind"


def test_since_is_parsed_or_refused(fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = str(tmp_path / "o.html")
    assert main(["report", "orders", "--url", fresh_db, "--html", page, "--since", "2026-01-01T00:00:00+00:00"]) == 0
    assert main(["report", "orders", "--url", fresh_db, "--html", page, "--since", "2026-01-01T00:00:00"]) != 0
    assert main(["report", "orders", "--url", fresh_db, "--html", page, "--since", "yesterday"]) != 0
    assert main(["report", "orders", "--url", fresh_db, "--html", page, "--since", "999999999w"]) != 0
    assert "reaches before the year 1" in capsys.readouterr().err  # a refusal, not an internal error



def test_a_long_approval_queue_shows_its_oldest_and_counts_the_rest(fresh_db: str, tmp_path: Path) -> None:
    from ops_db.reports.orders import QUEUE_ROWS

    with psycopg.connect(fresh_db) as conn:
        strategy = strategies.create_strategy(conn, "Four eyes", requires_approval=True)
        conn.execute(
            "SELECT trading.screen_order((trading.stage_order('queue-' || g, %(s)s, NULL, 'AAPL', 'buy', 'limit',"
            " 1, 10, NULL, NULL, NULL, 'day', 'bulk', NULL, '{}', '{}', NULL, '{}', '{}', '{}', '{}', NULL)).id,"
            " 'system')"
            " FROM generate_series(1, %(n)s) AS g", {"s": strategy.id, "n": QUEUE_ROWS + 7})
        conn.commit()
    page = tmp_path / "orders.html"
    _report(["orders", "--url", fresh_db, "--html", str(page)])
    dom, rendered = _open(page)
    assert dom.cards["awaiting approval"] == f"{QUEUE_ROWS + 7:,}"
    rows = dom.tables["approval-queue"]
    assert len(rows) == QUEUE_ROWS and rows[0][0] == "queue-1", "the oldest first"
    assert 'data-more="7"' in rendered.dom


def test_the_market_page_reaches_back_past_the_closed_hours(fresh_db: str) -> None:
    """Just after a session opens, the newest 200 five-minute bars lie mostly in earlier sessions:
    the default window holds them (a window of 200 bars of clock time ended in the night)."""
    from ops_db import market
    from ops_db.reports import market as market_report

    today_open = datetime.now(UTC).replace(hour=14, minute=30, second=0, microsecond=0) - timedelta(days=1)
    sessions = [today_open - timedelta(days=d) for d in (3, 2, 1)] + [today_open]
    ticks = [market.PriceTick("AAPL", opened + timedelta(minutes=m), Decimal(190) + m % 7, 10)
             for opened in sessions[:-1] for m in range(390)]
    ticks += [market.PriceTick("AAPL", today_open + timedelta(minutes=m), Decimal(191), 10) for m in range(10)]
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        market.ingest_prices(conn, ticks)
        from ops_db.ops import rollups

        if conn.execute("SELECT current_setting('timescaledb.license', true) = 'timescale'").fetchone() == (True,):
            rollups.refresh_continuous_aggregates(conn)
        else:
            rollups.refresh_rollups(conn)
        view = market_report.collect(conn, "AAPL", interval="5m")
    assert len(view.bars) == 200  # 2 of today, 78 of each of the sessions before it
    assert view.bars[-1].bucket == today_open + timedelta(minutes=5)
    assert view.start == view.bars[0].bucket
