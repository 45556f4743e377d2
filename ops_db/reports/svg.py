"""Charts as inline SVG: lines over time, bars, and candlesticks with volume and overlays.

Small on purpose: a report draws a handful of charts of at most a few thousand points, and an
inline SVG needs no script, no network and no font files, so the page renders the same offline
in any browser. Every label is escaped; an empty input draws the chart's frame with "no data".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")
UP, DOWN = "#16a34a", "#dc2626"
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Series:
    """One named line: (x, y) points, x in seconds since the epoch."""

    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False


@dataclass(frozen=True)
class Candle:
    at: float  # seconds since the epoch
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 64
    right: int = 16
    top: int = 28
    bottom: int = 28

    @property
    def inner_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> int:
        return self.height - self.top - self.bottom


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _number(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.2f}"


def time_label(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%m-%d %H:%M")


def _open(frame: _Frame, title: str, label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" height="{frame.height}">',
        f'<rect x="0" y="0" width="{frame.width}" height="{frame.height}" fill="#ffffff"/>',
        f'<text x="{frame.left}" y="16" {_FONT} font-weight="600">{escape(title)}</text>',
    ]


def _empty(frame: _Frame, title: str) -> str:
    parts = _open(frame, title, f"{title}: no data")
    parts.append(
        f'<rect x="{frame.left}" y="{frame.top}" width="{frame.inner_width}" height="{frame.inner_height}" '
        'fill="#f8fafc" stroke="#e2e8f0"/>'
    )
    parts.append(
        f'<text x="{frame.left + frame.inner_width / 2:.1f}" y="{frame.top + frame.inner_height / 2:.1f}" '
        f'{_FONT} text-anchor="middle" fill="#64748b" class="no-data">no data</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


class _Scale:
    def __init__(self, low: float, high: float, start: float, length: float, *, invert: bool) -> None:
        if high <= low:
            pad = abs(low) * 0.05 or 1.0
            low, high = low - pad, high + pad
        self.low, self.high, self.start, self.length, self.invert = low, high, start, length, invert

    def __call__(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.start + (1 - share if self.invert else share) * self.length


def _y_axis(frame: _Frame, scale: _Scale, top: float, height: float, fmt: Callable[[float], str]) -> list[str]:
    parts = []
    for tick in nice_ticks(scale.low, scale.high):
        if not scale.low <= tick <= scale.high:
            continue
        y = scale(tick)
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e2e8f0"/>')
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" {_FONT} text-anchor="end" fill="#475569">'
                     f"{escape(fmt(tick))}</text>")
    parts.append(f'<rect x="{frame.left}" y="{top:.1f}" width="{frame.inner_width}" height="{height:.1f}" '
                 'fill="none" stroke="#cbd5e1"/>')
    return parts


def _x_axis(frame: _Frame, scale: _Scale, low: float, high: float, fmt: Callable[[float], str]) -> list[str]:
    parts = []
    count = max(2, min(6, frame.inner_width // 120))
    for i in range(count):
        value = low + (high - low) * i / (count - 1) if high > low else low
        x = scale(value)
        anchor = "start" if i == 0 else "end" if i == count - 1 else "middle"
        parts.append(f'<text x="{x:.1f}" y="{frame.height - 8}" {_FONT} text-anchor="{anchor}" fill="#475569">'
                     f"{escape(fmt(value))}</text>")
    return parts


def _legend(frame: _Frame, names: Sequence[str]) -> list[str]:
    parts = []
    x: float = frame.width - frame.right
    for index, name in reversed(list(enumerate(names))):
        label = escape(name)
        width = 14 + 6.5 * len(name)
        x -= width + 10
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="8" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="17" {_FONT} fill="#334155">{label}</text>')
    return parts


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    width: int = 760,
    height: int = 260,
    x_format: Callable[[float], str] = time_label,
    y_format: Callable[[float], str] = _number,
    zero_line: bool = False,
) -> str:
    """Lines over a shared x axis, one colour per series, with a legend."""
    frame = _Frame(width, height)
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(frame, title)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points] + ([0.0] if zero_line else [])
    x_scale = _Scale(min(xs), max(xs), frame.left, frame.inner_width, invert=False)
    y_scale = _Scale(min(ys), max(ys), frame.top, frame.inner_height, invert=True)
    parts = _open(frame, title, title)
    parts += _y_axis(frame, y_scale, frame.top, frame.inner_height, y_format)
    if zero_line:
        y0 = y_scale(0.0)
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y0:.1f}" y2="{y0:.1f}" '
                     'stroke="#94a3b8" stroke-width="1.2"/>')
    for index, one in enumerate(series):
        if not one.points:
            continue
        path = " ".join(f"{x_scale(x):.1f},{y_scale(y):.1f}" for x, y in sorted(one.points))
        dash = ' stroke-dasharray="4 3"' if one.dashed else ""
        parts.append(f'<polyline class="series" data-series="{escape(one.name)}" fill="none" '
                     f'stroke="{PALETTE[index % len(PALETTE)]}" stroke-width="1.6"{dash} points="{path}"/>')
    parts += _x_axis(frame, x_scale, min(xs), max(xs), x_format)
    parts += _legend(frame, [s.name for s in series])
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 760,
    height: int = 240,
    y_format: Callable[[float], str] = _number,
) -> str:
    """One bar per category, labelled under it; negative values hang below zero."""
    frame = _Frame(width, height, bottom=44)
    if not bars:
        return _empty(frame, title)
    values = [v for _, v in bars] + [0.0]
    y_scale = _Scale(min(values), max(values), frame.top, frame.inner_height, invert=True)
    parts = _open(frame, title, title)
    parts += _y_axis(frame, y_scale, frame.top, frame.inner_height, y_format)
    slot = frame.inner_width / len(bars)
    y0 = y_scale(0.0)
    for index, (label, value) in enumerate(bars):
        x = frame.left + index * slot + slot * 0.15
        y = y_scale(value)
        top, bar_height = (y, y0 - y) if value >= 0 else (y0, y - y0)
        colour = PALETTE[0] if value >= 0 else DOWN
        parts.append(f'<rect class="bar" data-label="{escape(label)}" data-value="{value:g}" x="{x:.1f}" '
                     f'y="{top:.1f}" width="{slot * 0.7:.1f}" height="{max(bar_height, 0.5):.1f}" fill="{colour}">'
                     f"<title>{escape(label)}: {escape(y_format(value))}</title></rect>")
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{frame.height - frame.bottom + 16}" {_FONT} '
                     f'text-anchor="middle" fill="#334155">{escape(short)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def candlestick_chart(
    candles: Sequence[Candle],
    overlays: Sequence[Series] = (),
    *,
    title: str,
    width: int = 960,
    height: int = 420,
) -> str:
    """Candlesticks (green up, red down) with overlays (moving average, bands) and volume under them."""
    frame = _Frame(width, height)
    if not candles:
        return _empty(frame, title)
    price_height = frame.inner_height * 0.72
    volume_top = frame.top + price_height + 12
    volume_height = frame.inner_height - price_height - 12
    xs = [c.at for c in candles]
    lows = [c.low for c in candles] + [y for s in overlays for _, y in s.points]
    highs = [c.high for c in candles] + [y for s in overlays for _, y in s.points]
    step = (max(xs) - min(xs)) / max(len(candles) - 1, 1) if len(candles) > 1 else 60.0
    x_scale = _Scale(min(xs) - step / 2, max(xs) + step / 2, frame.left, frame.inner_width, invert=False)
    y_scale = _Scale(min(lows), max(highs), frame.top, price_height, invert=True)
    v_scale = _Scale(0.0, max(max(c.volume for c in candles), 1.0), volume_top, volume_height, invert=True)
    body = max(1.0, frame.inner_width / len(candles) * 0.6)
    parts = _open(frame, title, title)
    parts += _y_axis(frame, y_scale, frame.top, price_height, _number)
    parts.append(f'<rect x="{frame.left}" y="{volume_top:.1f}" width="{frame.inner_width}" '
                 f'height="{volume_height:.1f}" fill="none" stroke="#cbd5e1"/>')
    for candle in candles:
        x = x_scale(candle.at)
        colour = UP if candle.close >= candle.open else DOWN
        top, bottom = y_scale(max(candle.open, candle.close)), y_scale(min(candle.open, candle.close))
        parts.append(f'<g class="candle" data-at="{candle.at:.0f}">'
                     f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_scale(candle.high):.1f}" y2="{y_scale(candle.low):.1f}" '
                     f'stroke="{colour}"/>'
                     f'<rect x="{x - body / 2:.1f}" y="{top:.1f}" width="{body:.1f}" '
                     f'height="{max(bottom - top, 0.8):.1f}" fill="{colour}"/></g>')
        vy = v_scale(candle.volume)
        parts.append(f'<rect class="volume" x="{x - body / 2:.1f}" y="{vy:.1f}" width="{body:.1f}" '
                     f'height="{max(volume_top + volume_height - vy, 0.0):.1f}" fill="#94a3b8"/>')
    for index, one in enumerate(overlays):
        if one.points:
            path = " ".join(f"{x_scale(x):.1f},{y_scale(y):.1f}" for x, y in sorted(one.points))
            dash = ' stroke-dasharray="4 3"' if one.dashed else ""
            parts.append(f'<polyline class="series" data-series="{escape(one.name)}" fill="none" '
                         f'stroke="{PALETTE[index % len(PALETTE)]}" stroke-width="1.3"{dash} points="{path}"/>')
    parts += _x_axis(frame, x_scale, min(xs), max(xs), time_label)
    parts += _legend(frame, [s.name for s in overlays])
    parts.append("</svg>")
    return "".join(parts)
