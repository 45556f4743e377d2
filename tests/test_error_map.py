"""One error map, in one file, with no import side effects (ops_db/core/error_map.py).

- Every named constraint of schemas trading and ops_internal is mapped to a message, or listed
  as generic with the reason its server message is enough.
- A fresh interpreter that imports one module, and nothing else of ops_db, gets the mapped
  message: nothing depends on which modules registered what.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import psycopg

from ops_db.core import error_map
from tests.conftest import Server

CONSTRAINTS_SQL = """
SELECT con.conname
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE n.nspname IN ('trading', 'ops_internal')
ORDER BY 1
"""


def _named_constraints(conn: psycopg.Connection[Any]) -> set[str]:
    return {name for (name,) in conn.execute(CONSTRAINTS_SQL).fetchall()}


def test_every_named_constraint_is_mapped_or_deliberately_generic(db: psycopg.Connection[Any], server: Server) -> None:
    names = _named_constraints(db)
    generic = {n for n in names if n in error_map.GENERIC or n.endswith(error_map.GENERIC_SUFFIXES)}
    unmapped = sorted(names - set(error_map.CONSTRAINTS) - generic)
    assert not unmapped, f"constraints with neither a message nor a reason to stay generic: {unmapped}"
    both = sorted(set(error_map.CONSTRAINTS) & set(error_map.GENERIC))
    assert not both, f"constraints both mapped and generic: {both}"
    assert set(error_map.CONSTRAINTS) | set(error_map.GENERIC) >= error_map.APACHE_ONLY
    absent_here = error_map.APACHE_ONLY if server.edition == "timescale" else frozenset()
    stale = sorted((set(error_map.CONSTRAINTS) | set(error_map.GENERIC)) - names - absent_here)
    assert not stale, f"the map names constraints the schema no longer has: {stale}"


def test_constants_are_the_keys() -> None:
    constants = {value for name, value in vars(error_map).items() if name.isupper() and isinstance(value, str)}
    missing = sorted(set(error_map.CONSTRAINTS) - constants)
    assert not missing, f"map keys without a constant: {missing}"
    for key, (cls, message) in error_map.CONSTRAINTS.items():
        assert message.strip() == message and len(message) > 10, (key, message)
        assert issubclass(cls, Exception), key


def _fresh_interpreter(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_fresh_interpreter_importing_only_the_map_knows_every_constraint(db: psycopg.Connection[Any]) -> None:
    names = _named_constraints(db)
    code = (
        "import json, sys\n"
        "from ops_db.core import error_map\n"
        "assert not [m for m in sys.modules if m.startswith('ops_db.') and m.split('.')[1] not in ('core',)], "
        "sorted(m for m in sys.modules if m.startswith('ops_db.'))\n"
        "print(json.dumps(sorted(error_map.CONSTRAINTS)))\n"
    )
    known = set(json.loads(_fresh_interpreter(code)))
    generic = {n for n in names if n in error_map.GENERIC or n.endswith(error_map.GENERIC_SUFFIXES)}
    assert names - generic <= known


def test_a_violation_reads_as_the_mapped_message_whatever_was_imported(shared_db: str) -> None:
    """The confidence check of a signal read as the raw server text until ops_db.signals was
    imported; now a process that imports only the core maps it."""
    code = (
        "import sys, psycopg\n"
        "from ops_db.core.error_map import translate\n"
        f"conn = psycopg.connect({shared_db!r})\n"
        "try:\n"
        "    conn.execute(\"INSERT INTO trading.signals (timestamp, strategy, symbol, signal_type, confidence) \"\n"
        "                 \"VALUES (now(), 'momentum', 'AAPL', 'BUY', 7)\")\n"
        "except psycopg.Error as exc:\n"
        "    err = translate(exc)\n"
        "    print(type(err).__name__ + ': ' + str(err))\n"
        "assert 'ops_db.signals' not in sys.modules\n"
    )
    out = _fresh_interpreter(code).strip()
    assert out == "ValidationError: confidence must be between 0 and 1", out
