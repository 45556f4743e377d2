"""README screenshots of the three reports: python -m tools.screenshots docs/img (make screenshots).

Starts the local cluster (`ops-db db up`), builds a scratch database with the migrations and the
demo (its live book included), writes the reports and photographs each in headless Chromium.
The scratch database is dropped afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from ops_db.cli import main as cli
from ops_db.core import settings

SCRATCH = "ops_db_screenshots"
PAGES = {"orders": ["orders"], "health": ["health", "--refresh", "0"], "market": ["market", "AAPL"]}


def _shoot(page: Path, png: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        raise SystemExit("chromium is not installed (make browser)")
    with tempfile.TemporaryDirectory(prefix="ops-db-shots-") as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", "--window-size=1280,1500", f"--screenshot={png}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=120)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "docs/img")
    out.mkdir(parents=True, exist_ok=True)
    if cli(["db", "up"]) != 0:
        return 1
    admin = settings.resolve().conninfo
    target = settings.with_dbname(admin, SCRATCH)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SCRATCH)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH)))
    try:
        for step in (["migrate", "--url", target], ["demo", "--url", target]):
            if cli(step) != 0:
                return 1
        with tempfile.TemporaryDirectory(prefix="ops-db-reports-") as tmp:
            for name, args in PAGES.items():
                page = Path(tmp) / f"{name}.html"
                if cli(["report", *args[:1], *args[1:], "--url", target, "--html", str(page)]) != 0:
                    return 1
                _shoot(page, out / f"report-{name}.png")
                print(f"wrote {out / f'report-{name}.png'}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SCRATCH)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
