"""docs/schema.svg is drawn from what the migrations build (via docs/schema.dot), on every edition."""

from __future__ import annotations

import difflib
import re

from tests.conftest import ROOT
from tests.schema_diagram import dot_hash, render_dot


def test_schema_diagram_matches_migrations(fresh_db: str) -> None:
    documented = (ROOT / "docs" / "schema.dot").read_text()
    built = render_dot(fresh_db)
    if built != documented:
        delta = "".join(list(difflib.unified_diff(documented.splitlines(True), built.splitlines(True),
                                                  "docs/schema.dot", "migrated database"))[:60])
        raise AssertionError("docs/schema.dot differs from what the migrations build; regenerate the diagram with "
                             "`python -m tests.schema_diagram <conninfo>` (needs graphviz):\n" + delta)
    svg = (ROOT / "docs" / "schema.svg").read_text()
    found = re.search(r"rendered from docs/schema.dot sha256 ([0-9a-f]{64})", svg)
    assert found and found.group(1) == dot_hash(documented), "docs/schema.svg was not rendered from docs/schema.dot"
    for name in ("trading.staged_orders", "trading.stock_prices_1d", "ops_internal.system_events_critical"):
        assert f">{name}<" in svg, name
