"""The layers of issue 12: core, domain, operations, CLI, demo; no import runs upward or sideways.

- core (ops_db.core, ops_db.aio.core) imports only core;
- the domain (market, orders, ... and their async twins) imports core and the domain;
- operations (ops_db.ops) import core and operations, never the domain, the CLI or the demo;
  inside operations, the commands (health, maintain, stats, drift) never import each other;
- reports (ops_db.reports) read the domain and operations, and are read only by the CLI;
- the CLI imports anything but the demo, except the demo command itself;
- the demo imports core, the domain and operations, never the CLI.
Function-level imports count too: they are imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ops_db"
COMMANDS = ("ops_db.ops.health", "ops_db.ops.maintain", "ops_db.ops.stats", "ops_db.ops.drift")
DEMO_COMMAND = "ops_db.cli.demo_cmds"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    if module in {"ops_db", "ops_db.__main__"}:
        return "package"
    for prefix, name in (("ops_db.core", "core"), ("ops_db.aio.core", "core"), ("ops_db.ops", "ops"),
                         ("ops_db.cli", "cli"), ("ops_db.demo", "demo"), ("ops_db.reports", "reports")):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "domain"


def _imports(path: Path, module: str) -> set[str]:
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ops_db"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if not base.startswith("ops_db"):
                continue
            for alias in node.names:  # `from ops_db import market` imports the module ops_db.market
                candidate = f"{base}.{alias.name}"
                is_module = (ROOT / Path(*candidate.split("."))).is_dir() or (
                    ROOT / Path(*candidate.split(".")).with_suffix(".py")).is_file()
                found.add(candidate if is_module else base)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
ALLOWED = {
    "core": {"core"},
    "domain": {"core", "domain"},
    "ops": {"core", "ops"},
    "reports": {"core", "domain", "ops", "reports"},
    "cli": {"core", "domain", "ops", "reports", "cli"},
    "demo": {"core", "domain", "ops", "demo"},
    "package": {"core", "cli"},
}


def _wrong_imports(module: str) -> list[tuple[str, str]]:
    own = layer(module)
    wrong = []
    for target in sorted(_imports(MODULES[module], module)):
        there = layer(target)
        if there in ALLOWED[own] or (module == DEMO_COMMAND and there == "demo"):
            continue
        wrong.append((target, there))
    return wrong


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module: str) -> None:
    wrong = [f"{target} ({there})" for target, there in _wrong_imports(module)]
    assert not wrong, f"{module} ({layer(module)}) imports {', '.join(wrong)}"


@pytest.mark.parametrize("command", COMMANDS)
def test_operations_commands_do_not_import_each_other(command: str) -> None:
    for module, path in MODULES.items():
        if module != command and not module.startswith(command + "."):
            continue
        others = [t for t in _imports(path, module) if any(
            (t == c or t.startswith(c + ".")) and c != command for c in COMMANDS)]
        assert not others, f"{module} imports the command module(s) {others}"
