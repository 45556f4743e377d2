"""Lint migrations with squawk, as ops-db runs them; the committed 0001..0300 are a baseline.

- Files run in a transaction unless they say ``-- transactional: false``: squawk is told so
  (``--assume-in-transaction``), so it judges e.g. CREATE INDEX CONCURRENTLY correctly.
- A rollback file exists to drop what its migration created: the ban-drop-* rules are off there.
- A DO block hides its statements from squawk: DDL in one is a finding of its own (do-block-ddl);
  so is CONCURRENTLY in a file that runs in a transaction.
- Findings in tools/squawk-baseline.txt (file and rule, committed files only) are accepted;
  any other fails. A new migration may exempt a statement with
  ``-- squawk-ignore RULE -- reason`` on the line before it; an exemption without a reason fails.

Usage: python tools/lint_migrations.py [--squawk PATH] [--write-baseline] [migrations/]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "squawk-baseline.txt"
CONFIG = ROOT / ".squawk.toml"
ROLLBACK_ONLY_EXCLUDES = (
    "ban-drop-table", "ban-drop-column", "ban-drop-view", "ban-drop-function", "ban-drop-sequence",
    "ban-drop-schema", "ban-drop-extension", "ban-drop-index", "ban-drop-trigger", "ban-drop-type",
    "ban-drop-not-null",
)
_TRANSACTIONAL_FALSE = re.compile(r"^\s*--\s*transactional\s*:\s*false\s*$", re.IGNORECASE | re.MULTILINE)
_IGNORE = re.compile(r"--\s*squawk-ignore(?:-file)?\b(?P<rest>.*)$", re.MULTILINE)
_DO_BLOCK = re.compile(r"\bDO\s+(\$\w*\$)(?P<body>.*?)\1", re.IGNORECASE | re.DOTALL)
# Statements that lock existing tables hard: the ones a reviewer must see (edition checks that
# create functions or call TimescaleDB's policy functions in a DO block are not flagged).
_DDL = re.compile(
    r"\b(ALTER\s+TABLE|CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+(TABLE|INDEX|CONSTRAINT)|ADD\s+CONSTRAINT|"
    r"ALTER\s+COLUMN|DROP\s+COLUMN)\b",
    re.IGNORECASE,
)

Finding = tuple[str, str, int, str]  # file name, rule, line, message


def squawk(binary: str, files: list[Path], in_transaction: bool, exclude: tuple[str, ...]) -> list[Finding]:
    if not files:
        return []
    args = [binary, "--config", str(CONFIG), "--reporter", "json", "--pg-version", "15.0"]
    args.append("--assume-in-transaction" if in_transaction else "--no-assume-in-transaction")
    # --exclude replaces the config's excluded_rules: pass both.
    configured = tuple(tomllib.loads(CONFIG.read_text()).get("excluded_rules", ()))
    if exclude or configured:
        args.append("--exclude=" + ",".join((*configured, *exclude)))
    run = subprocess.run([*args, *map(str, files)], capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1) or not run.stdout.strip().startswith("["):
        raise SystemExit(f"lint_migrations: squawk failed ({run.returncode}): {run.stderr.strip()[:500]}")
    # squawk does not know this tool's own rule (do-block-ddl): an exemption of it is not unused.
    return [(Path(f["file"]).name, f["rule_name"], int(f["line"]) + 1, f["message"]) for f in json.loads(run.stdout)
            if not (f["rule_name"] == "unused-ignore" and "do-block-ddl" in f["message"])]


def do_block_findings(path: Path) -> list[Finding]:
    text = path.read_text()
    found = []
    for block in _DO_BLOCK.finditer(text):
        if _DDL.search(block.group("body")):
            line = text.count("\n", 0, block.start()) + 1
            previous = text.splitlines()[line - 2] if line > 1 else ""
            if "squawk-ignore" in previous and "do-block-ddl" in previous:
                continue
            found.append((path.name, "do-block-ddl", line,
                          "DDL inside a DO block: squawk cannot see its locks; write it as plain statements"))
    return found


_CONCURRENTLY = re.compile(r"^[^-\n]*\bCONCURRENTLY\b", re.IGNORECASE | re.MULTILINE)


def concurrently_in_transaction(path: Path) -> list[Finding]:
    """squawk's assume-in-transaction mode does not flag it; PostgreSQL refuses it at deploy time."""
    text = path.read_text()
    if _TRANSACTIONAL_FALSE.search(text):
        return []
    return [(path.name, "ban-concurrent-index-creation-in-transaction", text.count("\n", 0, m.start()) + 1,
             "CONCURRENTLY cannot run in the transaction the runner opens: mark the file -- transactional: false")
            for m in _CONCURRENTLY.finditer(text)]


def unexplained_ignores(path: Path) -> list[Finding]:
    """Exemptions must say why: `-- squawk-ignore RULE -- reason`."""
    text = path.read_text()
    found = []
    for match in _IGNORE.finditer(text):
        if "--" not in match.group("rest"):
            line = text.count("\n", 0, match.start()) + 1
            found.append((path.name, "exemption-without-reason", line,
                          "write the reason after the rules: -- squawk-ignore RULE -- why"))
    return found


def lint(binary: str, directory: Path) -> list[Finding]:
    files = sorted(directory.glob("*.sql"))
    groups: dict[tuple[bool, bool], list[Path]] = {}
    for path in files:
        transactional = not _TRANSACTIONAL_FALSE.search(path.read_text())
        groups.setdefault((transactional, path.name.endswith(".rollback.sql")), []).append(path)
    findings: list[Finding] = []
    for (transactional, is_rollback), group in sorted(groups.items()):
        findings += squawk(binary, group, transactional, ROLLBACK_ONLY_EXCLUDES if is_rollback else ())
    for path in files:
        findings += do_block_findings(path) + unexplained_ignores(path) + concurrently_in_transaction(path)
    return findings


def read_baseline() -> set[tuple[str, str]]:
    accepted = set()
    for line in BASELINE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, rule = line.split()[:2]
            accepted.add((name, rule))
    return accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=ROOT / "migrations")
    parser.add_argument("--squawk", default="squawk", help="the squawk binary")
    parser.add_argument("--write-baseline", action="store_true", help="print today's findings as baseline lines")
    args = parser.parse_args(argv)
    findings = lint(args.squawk, args.directory)
    if args.write_baseline:
        for name, rule in sorted({(f[0], f[1]) for f in findings}):
            print(f"{name} {rule}")
        return 0
    accepted = read_baseline()
    new = [f for f in findings if (f[0], f[1]) not in accepted]
    for name, rule, line, message in new:
        print(f"{args.directory.name}/{name}:{line}: {rule}: {message}")
    present = {f.name for f in args.directory.glob("*.sql")}
    stale = sorted(pair for pair in accepted - {(f[0], f[1]) for f in findings} if pair[0] in present)
    for name, rule in stale:
        print(f"{BASELINE.name}: '{name} {rule}' no longer found: remove it")
    baselined = len(findings) - len(new)
    print(f"lint_migrations: {len(present)} files, {len(new)} finding(s), {baselined} accepted by the baseline")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
