"""The README's "Using ops_db from an application" examples run as written, sync then async."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

_BLOCK = re.compile(r"<!-- example: (\w+) [^>]*-->\n```python\n(.*?)```", re.S)


def _examples() -> dict[str, str]:
    return dict(_BLOCK.findall((ROOT / "README.md").read_text()))


def test_the_readme_examples_run(fresh_db: str) -> None:
    examples = _examples()
    assert set(examples) == {"sync", "async"}, sorted(examples)
    for name in ("sync", "async"):  # the async example reads the strategy the sync one made
        done = subprocess.run([sys.executable, "-c", examples[name]], capture_output=True, text=True, timeout=120,
                              env={"OPS_DB_URL": fresh_db, "PATH": "/usr/bin:/bin"}, check=False, cwd=ROOT)
        assert done.returncode == 0, f"the {name} example failed:\n{done.stderr[-3000:]}"
