"""One self-contained HTML page: inline CSS, inline SVG charts, no script, no network fetch.

Every value from the database goes through ``escape`` (text) or is a number formatted here, so a
strategy named ``<script>`` stays text. Pages are written atomically (a temporary file in the
same directory, then a rename), so a cron job may regenerate a page while a browser shows it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from ops_db.core.error_map import map_errors


class Raw(str):
    """HTML this module made (a status badge): a table cell inserts it as it is. Never built from
    a database value without escaping it first."""


Cell = str | int | float | Decimal | datetime | None

_CSS = """
body{font-family:system-ui,sans-serif;margin:0;background:#f1f5f9;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:16px 24px}
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#cbd5e1;font-size:13px}
main{padding:16px 24px;max-width:1200px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:12px 16px;margin:0 0 16px}
section h2{font-size:16px;margin:0 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}
th{background:#f8fafc;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;min-width:140px}
.card .label{font-size:12px;color:#475569}.card .value{font-size:20px;font-weight:600}
.empty{color:#64748b;font-style:italic}
.status-OK{color:#15803d;font-weight:600}.status-WARNING{color:#b45309;font-weight:600}
.status-CRITICAL{color:#b91c1c;font-weight:600}.status-UNKNOWN{color:#6d28d9;font-weight:600}
svg.chart{max-width:100%;height:auto;display:block;margin:8px 0}
"""


def _cell(value: Cell) -> str:
    return value if isinstance(value, Raw) else escape(cell_text(value))


def cell_text(value: Cell) -> str:
    """How a value reads in a table cell (not yet escaped)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value == value.quantize(Decimal("0.01")) or abs(value) >= 1 else f"{value:,.4f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, empty: str = "none", name: str = "") -> str:
    """A table; numeric cells align right. ``empty`` is shown instead when there are no rows."""
    if not rows:
        return f'<p class="empty" data-table="{escape(name)}">{escape(empty)}</p>'
    numeric = [all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows) for i in range(len(headers))]
    head = "".join(f'<th class="num">{escape(h)}</th>' if numeric[i] else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_cell(v)}</td>' if numeric[i] else f"<td>{_cell(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table data-table="{escape(name)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def cards(items: Sequence[tuple[str, Cell]]) -> str:
    """Headline figures, each with a label."""
    parts = [
        f'<div class="card" data-card="{escape(label)}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(cell_text(value))}</div></div>'
        for label, value in items
    ]
    return f'<div class="cards">{"".join(parts)}</div>'


def status(text: str) -> Raw:
    """A status badge (OK, WARNING, CRITICAL, UNKNOWN)."""
    return Raw(f'<span class="status-{escape(text)}">{escape(text)}</span>')


@dataclass
class Page:
    title: str
    subtitle: str
    refresh_seconds: int | None = None
    sections: list[str] = field(default_factory=list)

    def section(self, key: str, heading: str, *blocks: str) -> None:
        """A section; ``blocks`` are HTML made by this module or svg.py (already escaped)."""
        self.sections.append(
            f'<section id="{escape(key)}" data-section="{escape(key)}"><h2>{escape(heading)}</h2>'
            f'{"".join(blocks)}</section>'
        )

    def render(self) -> str:
        refresh = (f'<meta http-equiv="refresh" content="{int(self.refresh_seconds)}">'
                   if self.refresh_seconds else "")
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # No network: nothing may load from anywhere but this file.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:\">"
            f"{refresh}<title>{escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body><header><h1>{escape(self.title)}</h1><p>{escape(self.subtitle)}</p></header>"
            f'<main>{"".join(self.sections)}</main></body></html>\n'
        )


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader sees the old page
    or the new one, never half of one."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextmanager
def snapshot(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """One read-only repeatable-read transaction for a whole report, so its sections agree; inside a
    transaction the caller already opened, the report reads in that one."""
    with map_errors():
        if conn.info.transaction_status != TransactionStatus.IDLE:
            yield
            return
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
