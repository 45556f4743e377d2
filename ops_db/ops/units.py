"""Figures as the operations commands print them: durations, sizes, percentages, counts."""

from __future__ import annotations


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        for size, label in ((86400, "d"), (3600, "h"), (60, "min")):
            if value >= size:
                return f"{value / size:.1f} {label}"
        return f"{value:.1f} s" if 0 < value < 10 else f"{value:.0f} s"
    if unit == "bytes":
        for size, label in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= size:
                return f"{value / size:.1f} {label}"
        return f"{value:.0f} B"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.0f}"
