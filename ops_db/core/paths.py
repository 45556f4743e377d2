"""Where the package finds its SQL, migrations and scripts: inside an installed wheel, or the checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # ops_db/


def _data_dir(name: str) -> Path:
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"ops_db cannot find its {name}/ directory (looked in {bundled} and {checkout})")


def migrations_dir() -> Path:
    return _data_dir("migrations")


def sql_dir() -> Path:
    return _data_dir("sql")


def scripts_dir() -> Path:
    """backup.sh and restore.sh (shipped in the wheel, so a wheel-only install can back up)."""
    return _data_dir("scripts")
