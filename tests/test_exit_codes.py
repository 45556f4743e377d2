"""One exit-code table: ops_db.core.errors.ExitCode, the scripts' EXIT_* tables and the docs agree.

No database needed: these read the package, the scripts and the documentation.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from pathlib import Path

import pytest

import ops_db
from ops_db.core import errors
from ops_db.core.errors import ExitCode, NagiosStatus, OpsDbError

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("backup.sh", "restore.sh", "pitr.sh")


def _all_modules() -> list[str]:
    names = [ops_db.__name__]
    for info in pkgutil.walk_packages(ops_db.__path__, prefix="ops_db."):
        if info.name != "ops_db.__main__":
            names.append(info.name)
    return names


def _error_classes() -> set[type[OpsDbError]]:
    """Every OpsDbError subclass defined anywhere in the package (each module imported)."""
    for name in _all_modules():
        importlib.import_module(name)
    found: set[type[OpsDbError]] = set()
    todo: list[type[OpsDbError]] = [OpsDbError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("ops_db"):
            found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_exit_codes_are_unique() -> None:
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values)), "two ExitCode names with one number"
    assert ExitCode.OK == 0 and ExitCode.FAILURE == 1 and ExitCode.USAGE == 2  # click's usage errors exit 2
    assert all(0 <= v <= 255 for v in values)


def test_nagios_codes_are_the_plugin_protocol() -> None:
    assert [(s.name, int(s)) for s in NagiosStatus] == [("OK", 0), ("WARNING", 1), ("CRITICAL", 2), ("UNKNOWN", 3)]


def test_every_exception_is_defined_in_core_errors() -> None:
    elsewhere = sorted(f"{c.__module__}.{c.__qualname__}" for c in _error_classes() if c.__module__ != errors.__name__)
    assert not elsewhere, f"exceptions defined outside ops_db.core.errors: {elsewhere}"


def test_every_exit_code_of_an_exception_is_an_exit_code() -> None:
    for cls in _error_classes():
        assert isinstance(cls.exit_code, ExitCode), f"{cls.__name__}.exit_code is {cls.exit_code!r}, not an ExitCode"


def test_each_specific_code_is_assigned_by_one_class() -> None:
    """The sharing rule: FAILURE is the generic code many classes inherit; any other code is set
    (``exit_code = ...`` in the class body) by exactly one class, and the classes that share its
    meaning derive from that one (e.g. Locked: maintain, restore and migrate locks)."""
    assigned: dict[ExitCode, list[str]] = defaultdict(list)
    for cls in _error_classes():
        if "exit_code" in vars(cls):
            assigned[cls.exit_code].append(cls.__name__)
    assert assigned.pop(ExitCode.FAILURE) == ["OpsDbError"]
    shared = {code: sorted(names) for code, names in assigned.items() if len(names) > 1}
    assert not shared, f"one exit code assigned by unrelated classes: {shared}"
    for cls in _error_classes():
        owner = next(c for c in cls.__mro__ if "exit_code" in vars(c))
        assert issubclass(cls, owner)


def test_locked_is_the_one_lock_meaning() -> None:
    lockers = {c.__name__ for c in _error_classes() if c.exit_code == ExitCode.LOCKED}
    assert lockers == {"Locked", "MaintainLocked", "MigrationLockTimeout", "RestoreLocked"}
    assert all(issubclass(c, errors.Locked) for c in _error_classes() if c.exit_code == ExitCode.LOCKED)


def _script_table(name: str) -> dict[str, int]:
    text = (ROOT / "scripts" / name).read_text()
    table: dict[str, int] = {}
    for line in re.findall(r"^readonly (EXIT_.*)$", text, flags=re.M):
        for var, value in re.findall(r"EXIT_([A-Z_]+)=(\d+)", line):
            table[var] = int(value)
    return table


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_exit_tables_agree_with_exit_code(name: str) -> None:
    table = _script_table(name)
    assert table, f"{name} has no readonly EXIT_* table"
    for var, value in table.items():
        assert var in ExitCode.__members__, f"{name}: EXIT_{var} is not an ExitCode name"
        assert ExitCode[var] == value, f"{name}: EXIT_{var}={value}, ExitCode.{var} is {int(ExitCode[var])}"
    text = (ROOT / "scripts" / name).read_text()
    literal = re.findall(r"\b(?:die|exit) ([0-9]+)\b", text)
    assert set(literal) <= {"0"}, f"{name} exits with a number instead of its EXIT_* name: {literal}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_help_lists_only_exit_codes(name: str) -> None:
    text = (ROOT / "scripts" / name).read_text()
    block = text.split("Exit codes:\n", 1)[1].split("EOF", 1)[0]
    codes = [int(c) for c in re.findall(r"^  (\d+) ", block, flags=re.M)]
    assert codes, f"{name} --help lists no exit codes"
    assert set(codes) <= {int(c) for c in ExitCode}, f"{name} --help lists a code ExitCode lacks"


def _doc_rows(text: str, heading: str) -> list[list[str]]:
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_operations_doc_table_is_exit_code() -> None:
    rows = _doc_rows((ROOT / "docs" / "operations.md").read_text(), "\n## Exit codes\n")
    documented = [(int(code), name) for code, name, *_ in rows[1:]]
    assert documented == [(int(c), c.name) for c in ExitCode]


def test_readme_table_is_exit_code() -> None:
    text = (ROOT / "README.md").read_text()
    table = text.split("| code | name | code | name |", 1)[1].split("\n\n", 1)[0]
    documented = set()
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for code, name in zip(cells[::2], cells[1::2], strict=True):
            if code:
                documented.add((int(code), name))
    assert documented == {(int(c), c.name) for c in ExitCode}


def test_every_per_command_table_in_the_docs_uses_exit_code_numbers() -> None:
    """The tables of one command or script (``| code | meaning |``, ``| exit | meaning |``)."""
    text = (ROOT / "docs" / "operations.md").read_text()
    numbers = {int(c) for c in ExitCode}
    for head in re.finditer(r"^\| (?:code|exit) \| meaning \|$", text, flags=re.M):
        for line in text[head.end():].split("\n\n", 1)[0].splitlines()[2:]:
            code = int(line.strip("|").split("|")[0])
            assert code in numbers, f"docs/operations.md lists exit {code}, which ExitCode lacks"


def test_cli_exits_use_the_table() -> None:
    """No command raises typer.Exit or returns an exit status with a bare number."""
    for path in sorted((ROOT / "ops_db" / "cli").glob("*.py")):
        source = path.read_text()
        bare = re.findall(r"typer\.Exit\((\d+)\)|sys\.exit\((\d+)\)|exit_code = (\d+)", source)
        assert not bare, f"{path.name}: bare exit numbers {bare}"


def test_exit_codes_module_is_the_one_definition() -> None:
    source = inspect.getsource(errors)
    assert "class ExitCode(" in source and "class NagiosStatus(" in source
