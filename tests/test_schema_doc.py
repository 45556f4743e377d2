"""The schema built by migrations equals the documented schema (docs/schema.md), on every edition."""

from __future__ import annotations

import difflib

from tests.conftest import ROOT
from tests.schema_doc import render


def test_docs_schema_matches_migrations(fresh_db: str) -> None:
    documented = (ROOT / "docs" / "schema.md").read_text()
    built = render(fresh_db)
    if built != documented:
        delta = "".join(
            list(
                difflib.unified_diff(
                    documented.splitlines(True), built.splitlines(True), "docs/schema.md", "migrated database"
                )
            )[:60]
        )
        raise AssertionError(
            "docs/schema.md differs from what the migrations build; regenerate it with "
            "`make docs` (or `python -m tests.schema_doc <conninfo> > docs/schema.md`) after checking the diff:\n"
            + delta
        )
