"""The migration linter (`make check`): squawk as ops-db runs migrations, over a baseline."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from ops_db.core.paths import migrations_dir
from tools.lint_migrations import main as lint

ROOT = Path(__file__).resolve().parent.parent
SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
pytestmark = pytest.mark.skipif(SQUAWK is None, reason="squawk not installed: `make check` installs it")


def _lint(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = lint(["--squawk", str(SQUAWK), str(directory)])
    return code, capsys.readouterr().out


def _with(tmp_path: Path, name: str, up: str, down: str = "SELECT 1;\n") -> Path:
    target = tmp_path / "migrations"
    if not target.exists():
        shutil.copytree(migrations_dir(), target)
    (target / f"{name}.sql").write_text(up)
    (target / f"{name}.rollback.sql").write_text(down)
    return target


def test_committed_migrations_pass_with_their_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(ROOT / "migrations", capsys)
    assert code == 0, out
    assert "0 finding(s)" in out


def test_new_foreign_key_without_not_valid_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    up = ("-- depends: 0300_maintenance_runs\nSET ROLE ops_owner;\n"
          "ALTER TABLE trading.executions ADD CONSTRAINT executions_strategy_fk\n"
          "    FOREIGN KEY (strategy_id) REFERENCES trading.strategies (id);\nRESET ROLE;\n")
    code, out = _lint(_with(tmp_path, "0569_lint_probe", up), capsys)
    assert code == 1
    assert "0569_lint_probe.sql:3: constraint-missing-not-valid" in out


def test_exemption_needs_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    statement = ("ALTER TABLE trading.executions ADD CONSTRAINT executions_strategy_fk\n"
                 "    FOREIGN KEY (strategy_id) REFERENCES trading.strategies (id);\n")
    rules = "constraint-missing-not-valid, adding-foreign-key-constraint"
    bare = f"-- depends: 0300_maintenance_runs\n-- squawk-ignore {rules}\n{statement}"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", bare), capsys)
    assert code == 1 and "exemption-without-reason" in out
    why = "table empty in every deploy"
    reasoned = f"-- depends: 0300_maintenance_runs\n-- squawk-ignore {rules} -- {why}\n{statement}"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", reasoned), capsys)
    assert code == 0, out


def test_ddl_hidden_in_a_do_block_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    up = ("-- depends: 0300_maintenance_runs\nDO $probe$\nBEGIN\n"
          "    ALTER TABLE trading.executions ALTER COLUMN venue SET NOT NULL;\nEND\n$probe$;\n")
    code, out = _lint(_with(tmp_path, "0569_lint_probe", up), capsys)
    assert code == 1 and "0569_lint_probe.sql:2: do-block-ddl" in out


def test_transactional_directive_decides_concurrent_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = "CREATE INDEX CONCURRENTLY executions_venue_idx ON trading.executions (venue);\n"
    drop = "DROP INDEX CONCURRENTLY trading.executions_venue_idx;\n"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", "-- depends: 0300_maintenance_runs\n" + index,
                            drop), capsys)
    assert code == 1 and "ban-concurrent-index-creation-in-transaction" in out
    head = "-- transactional: false\n-- depends: 0300_maintenance_runs\n"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", head + index, "-- transactional: false\n" + drop), capsys)
    assert code == 0, out
    # A plain index on an existing table, in a transaction, blocks its writes: a finding.
    plain = "-- depends: 0300_maintenance_runs\nCREATE INDEX executions_venue_idx ON trading.executions (venue);\n"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", plain, drop), capsys)
    assert code == 1 and "require-concurrent-index-creation" in out


def test_rollback_files_may_drop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    up = ("-- depends: 0300_maintenance_runs\nSET ROLE ops_owner;\n"
          "CREATE TABLE trading.lint_probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);\n"
          "RESET ROLE;\n")
    down = "SET ROLE ops_owner;\nDROP TABLE trading.lint_probe;\nRESET ROLE;\n"
    code, out = _lint(_with(tmp_path, "0569_lint_probe", up, down), capsys)
    assert code == 0, out
    # ... but a forward migration that drops a table is flagged.
    code, out = _lint(_with(tmp_path, "0568_lint_drop", "-- depends: 0569_lint_probe\n" + down), capsys)
    assert code == 1 and "0568_lint_drop.sql:3: ban-drop-table" in out
