"""Synthetic market data: geometric Brownian motion prices, Black-Scholes option chains with
Greeks consistent with those prices, market events and signals. Deterministic for a seed
(timestamps follow ``now``; every value follows the seed). Standard library math only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ops_db.model.market import MarketEvent, OptionQuote, PriceTick
from ops_db.model.signals import NewSignal, SignalType

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "SPY")
SESSION_OPEN = time(14, 30)  # 09:30 New York (EST), in UTC
SESSION_MINUTES = 390
TICK_SECONDS = 30
CHAIN_MINUTES = 60
RISK_FREE_RATE = 0.04
_START_PRICE = {"AAPL": 190.0, "MSFT": 410.0, "SPY": 520.0, "NVDA": 120.0, "TSLA": 240.0, "QQQ": 440.0}
_VOL = {"AAPL": 0.25, "MSFT": 0.22, "SPY": 0.15, "NVDA": 0.45, "TSLA": 0.55, "QQQ": 0.18}
_TRADING_SECONDS_PER_YEAR = 252 * SESSION_MINUTES * 60


@dataclass(frozen=True)
class DemoData:
    ticks: list[PriceTick]
    quotes: list[OptionQuote]
    events: list[MarketEvent]
    signals: list[NewSignal]


def _q(value: float, places: str = "0.01") -> Decimal:
    """Prices in whole cents by default: US stocks above $1 and listed options are quoted in cents,
    so finer digits would be noise no feed carries (and noise the columnstore has to keep)."""
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Greeks:
    price: float
    delta: float
    gamma: float
    theta: float  # per calendar day
    vega: float  # per 1 volatility point
    rho: float  # per 1 rate point


def black_scholes(spot: float, strike: float, years: float, rate: float, vol: float, call: bool) -> Greeks:
    """European option price and Greeks (no dividends)."""
    years = max(years, 1e-6)
    sqrt_t = math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    disc = math.exp(-rate * years)
    gamma = norm_pdf(d1) / (spot * vol * sqrt_t)
    vega = spot * norm_pdf(d1) * sqrt_t / 100
    common_theta = -spot * norm_pdf(d1) * vol / (2 * sqrt_t)
    if call:
        price = spot * norm_cdf(d1) - strike * disc * norm_cdf(d2)
        delta = norm_cdf(d1)
        theta = (common_theta - rate * strike * disc * norm_cdf(d2)) / 365
        rho = strike * years * disc * norm_cdf(d2) / 100
    else:
        price = strike * disc * norm_cdf(-d2) - spot * norm_cdf(-d1)
        delta = norm_cdf(d1) - 1
        theta = (common_theta + rate * strike * disc * norm_cdf(-d2)) / 365
        rho = -strike * years * disc * norm_cdf(-d2) / 100
    return Greeks(price, delta, gamma, theta, vega, rho)


def sessions(now: datetime, days: int) -> list[datetime]:
    """Opening times of the last ``days`` daily sessions that started before ``now``."""
    today_open = datetime.combine(now.date(), SESSION_OPEN, tzinfo=UTC)
    last = today_open if today_open <= now else today_open - timedelta(days=1)
    return [last - timedelta(days=i) for i in range(days - 1, -1, -1)]


def occ_symbol(root: str, expiry: date, call: bool, strike: Decimal) -> str:
    return f"{root:<6}{expiry:%y%m%d}{'C' if call else 'P'}{int(strike * 1000):08d}"


def _fridays_after(day: date, count: int) -> list[date]:
    first = day + timedelta(days=(4 - day.weekday()) % 7 or 7)
    return [first + timedelta(weeks=i) for i in range(count)]


def generate(*, seed: int, symbols: list[str], days: int, now: datetime, tick_seconds: int = TICK_SECONDS,
             chain_minutes: int = CHAIN_MINUTES) -> DemoData:
    """Ticks every ``tick_seconds`` and a full option chain every ``chain_minutes`` of each session."""
    if tick_seconds < 1 or chain_minutes < 1 or (chain_minutes * 60) % tick_seconds:
        raise ValueError(f"chain_minutes ({chain_minutes}) must be a whole number of ticks of {tick_seconds} s")
    rng = random.Random(seed)  # noqa: S311  (synthetic data, reproducible by design)
    ticks: list[PriceTick] = []
    quotes: list[OptionQuote] = []
    events: list[MarketEvent] = []
    signals: list[NewSignal] = []
    dt = tick_seconds / _TRADING_SECONDS_PER_YEAR
    for symbol in symbols:
        spot = _START_PRICE.get(symbol, 50.0 + rng.random() * 150.0)
        vol = _VOL.get(symbol, 0.3)
        drift = 0.08
        for opened in sessions(now, days):
            closes = opened + timedelta(minutes=SESSION_MINUTES)
            t = opened
            hourly: list[tuple[datetime, float]] = []
            chains: list[tuple[datetime, float]] = []
            open_interest: dict[str, int] = {}  # published once a day: one figure per contract and session
            while t < closes and t <= now:
                spot *= math.exp((drift - 0.5 * vol * vol) * dt + vol * math.sqrt(dt) * rng.gauss(0.0, 1.0))
                volume = int(rng.lognormvariate(6.0, 0.8))
                ticks.append(PriceTick(symbol=symbol, timestamp=t, close_price=_q(spot), volume=volume))
                if (t - opened).seconds % 3600 == 0:
                    hourly.append((t, spot))
                if (t - opened).seconds % (chain_minutes * 60) == 0:
                    chains.append((t, spot))
                if volume > 2500:
                    events.append(MarketEvent(symbol, t, "volume_spike", _q(spot), volume, {"threshold": 2500}))
                t += timedelta(seconds=tick_seconds)
            for quoted_at, s in chains:
                quotes.extend(_chain(rng, symbol, s, vol, quoted_at, open_interest))
            if len(hourly) > 1:
                signals.append(_signal(rng, symbol, hourly[-1][0], hourly[-1][1], hourly[0][1]))
            events.append(MarketEvent(symbol, opened, "session_open", _q(hourly[0][1]) if hourly else None, None,
                                      {"session": opened.date().isoformat()}))
    return DemoData(ticks, quotes, events, signals)


def _chain(rng: random.Random, symbol: str, spot: float, vol: float, at: datetime,
           open_interest: dict[str, int]) -> list[OptionQuote]:
    out = []
    step = 5.0 if spot > 100 else 1.0
    center = round(spot / step) * step
    for expiry in _fridays_after(at.date(), 2):
        years = max((datetime.combine(expiry, time(21, 0), tzinfo=UTC) - at).total_seconds(), 3600) / (365 * 86400)
        for k in range(-3, 4):
            strike = Decimal(repr(center + k * step)).quantize(Decimal("0.001"))
            moneyness = math.log(float(strike) / spot)
            iv = vol * (1 + 0.8 * moneyness * moneyness) - 0.1 * moneyness * vol  # a mild skew and smile
            for call in (True, False):
                g = black_scholes(spot, float(strike), years, RISK_FREE_RATE, iv, call)
                price = max(g.price, 0.01)
                half_spread = max(0.01, price * 0.02)
                intrinsic = _q(max(0.0, spot - float(strike)) if call else max(0.0, float(strike) - spot))
                last = _q(price)
                volume = int(rng.lognormvariate(3.0, 1.0) * (1.3 if not call and moneyness > 0 else 1.0))
                contract = occ_symbol(symbol, expiry, call, strike)
                if contract not in open_interest:
                    open_interest[contract] = int(rng.lognormvariate(7.0, 1.0))
                out.append(
                    OptionQuote(
                        option_symbol=contract,
                        underlying_symbol=symbol,
                        timestamp=at,
                        expiration_date=expiry,
                        strike_price=strike,
                        option_type="CALL" if call else "PUT",
                        bid_price=_q(max(price - half_spread, 0.0)),
                        ask_price=_q(price + half_spread),
                        last_price=last,
                        volume=volume,
                        open_interest=open_interest[contract],
                        implied_volatility=_q(iv, "0.000001"),
                        delta=_q(g.delta, "0.000001"),
                        gamma=_q(g.gamma, "0.000001"),
                        theta=_q(g.theta, "0.000001"),
                        vega=_q(g.vega, "0.000001"),
                        rho=_q(g.rho, "0.000001"),
                        intrinsic_value=intrinsic,
                        time_value=last - intrinsic,
                    )
                )
    return out


def _signal(rng: random.Random, symbol: str, at: datetime, spot: float, opening: float) -> NewSignal:
    move = spot / opening - 1
    kind: SignalType = "BUY" if move > 0.002 else ("SELL" if move < -0.002 else "HOLD")
    confidence = _q(min(0.99, 0.55 + abs(move) * 20 + rng.random() * 0.2), "0.0001")
    target = stop = None
    if kind == "BUY":
        target, stop = _q(spot * 1.03), _q(spot * 0.98)
    elif kind == "SELL":
        target, stop = _q(spot * 0.97), _q(spot * 1.02)
    return NewSignal(
        symbol=symbol,
        signal_type=kind,
        confidence=confidence,
        target_price=target,
        stop_loss=stop,
        reasoning=f"session move {move:+.2%}",
        model_version="demo-momentum-1",
        strategy="demo_momentum",
        features={"session_move": round(move, 6)},
        timestamp=at,
        expires_at=at + timedelta(days=1),
    )
