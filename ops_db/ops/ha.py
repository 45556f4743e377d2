"""A Patroni HA cluster on loopback: one etcd, N PostgreSQL + TimescaleDB nodes, synchronous mode (strict).

For tests and local use (``ops-db ha up``); its configuration is deploy/patroni.yml.tmpl, the
template an operator adapts for real hosts (docs/deployment.md). Layout under ``home``:

- ``ha.json``: ports, scope and edition (no secret);
- ``secrets.json``, ``pgpass``: the generated passwords (0600); the URL names the passfile, so no
  command line, log or output ever carries a password;
- ``etcd/``: etcd's data, log and pid; ``node-<i>/``: patroni.yml, data/, run/ (socket), patroni.log
  and patroni.pid.

Patroni and etcd are started through ``exec`` (ops_db.ops.nodes.spawn_as_server), so the pid kept
is the program's own: kill -9 of it is a crash of that program, as a failover test needs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import make_conninfo

from ops_db.core import settings
from ops_db.core.errors import ClusterError
from ops_db.ops.cluster import DATABASE, SUPERUSER, available_editions, free_port, pg_bindir
from ops_db.ops.nodes import (
    clean_env,
    deploy_dir,
    make_dirs,
    node_role_of,
    own,
    pid_running,
    postmaster_pid,
    spawn_as_server,
    stop_pid,
    wait_for,
    write_private,
)

BOOTSTRAP_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
HTTP_TIMEOUT = 2.0


def default_home() -> Path:
    """<OPS_DB_HOME or ./.ops-db>/ha, beside the local cluster."""
    return settings.local_home() / "ha"


def _http_json(url: str, timeout: float = HTTP_TIMEOUT) -> Any:
    """GET a loopback JSON endpoint (Patroni's REST API, etcd's /health). Any HTTP status: its JSON body."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"refusing a non-loopback URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  (loopback http only)
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:  # Patroni answers 503 with a body on a replica's /primary
        body = exc.read()
        return json.loads(body) if body else None


@dataclass
class HANode:
    index: int
    home: Path
    pg_port: int
    api_port: int

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    @property
    def dir(self) -> Path:
        return self.home / self.name

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.dir / "run"

    @property
    def config(self) -> Path:
        return self.dir / "patroni.yml"

    @property
    def log(self) -> Path:
        return self.dir / "patroni.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "patroni.pid"

    def patroni_pid(self) -> int | None:
        return pid_running(self.pid_file, str(self.config))

    def postmaster_pid(self) -> int | None:
        return postmaster_pid(self.data_dir)

    def local_conninfo(self, dbname: str = DATABASE) -> str:
        """This node's own server through its socket (trust: no password)."""
        return make_conninfo(host=str(self.socket_dir), port=str(self.pg_port), user=SUPERUSER, dbname=dbname)

    def patroni_state(self) -> dict[str, Any] | None:
        try:
            state = _http_json(f"http://127.0.0.1:{self.api_port}/patroni")
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None


@dataclass
class HACluster:
    home: Path
    scope: str
    license: str
    bindir: Path
    etcd_client_port: int
    etcd_peer_port: int
    nodes: list[HANode]

    # -- creation and persistence ------------------------------------------------------------
    @classmethod
    def create(cls, home: Path, *, nodes: int = 3, license: str | None = None) -> HACluster:
        if nodes < 2:
            raise ClusterError("an HA cluster needs at least 2 nodes (3 to survive losing one in strict sync mode)")
        if shutil.which("patroni") is None or shutil.which("etcd") is None:
            raise ClusterError("patroni and etcd are not installed: run 'make ha-tools'")
        bindir = pg_bindir()
        editions = available_editions(bindir)
        license = license or editions[-1]
        if license not in editions:
            raise ClusterError(f"this PostgreSQL install has no {license} edition of TimescaleDB")
        home = home.resolve()
        if (home / "ha.json").exists():
            raise ClusterError(f"an HA cluster already exists in {home}")
        ports = _distinct_ports(2 + 2 * nodes)
        cluster = cls(
            home=home,
            scope=f"ops-db-{secrets.token_hex(3)}",
            license=license,
            bindir=bindir,
            etcd_client_port=ports[0],
            etcd_peer_port=ports[1],
            nodes=[HANode(i, home, ports[2 * i], ports[2 * i + 1]) for i in range(1, nodes + 1)],
        )
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o711)  # noqa: S103  (traverse only: the server user reaches its own directories)
        write_private(home / "secrets.json", json.dumps(
            {"superuser": secrets.token_urlsafe(24), "replication": secrets.token_urlsafe(24)}) + "\n")
        # The secrets are root's (the caller's), not the server user's: Patroni reads its own copy.
        if os.geteuid() == 0:
            os.chown(home / "secrets.json", 0, 0)
        cluster._save()
        return cluster

    @classmethod
    def load(cls, home: Path) -> HACluster:
        home = home.resolve()
        try:
            meta = json.loads((home / "ha.json").read_text())
        except FileNotFoundError:
            raise ClusterError(f"no HA cluster in {home}: ops-db ha up") from None
        return cls(
            home=home,
            scope=meta["scope"],
            license=meta["license"],
            bindir=Path(meta["bindir"]),
            etcd_client_port=int(meta["etcd_client_port"]),
            etcd_peer_port=int(meta["etcd_peer_port"]),
            nodes=[HANode(int(n["index"]), home, int(n["pg_port"]), int(n["api_port"])) for n in meta["nodes"]],
        )

    @classmethod
    def load_or_create(cls, home: Path, *, nodes: int = 3) -> HACluster:
        return cls.load(home) if (home / "ha.json").exists() else cls.create(home, nodes=nodes)

    def _save(self) -> None:
        meta = {
            "scope": self.scope,
            "license": self.license,
            "bindir": str(self.bindir),
            "etcd_client_port": self.etcd_client_port,
            "etcd_peer_port": self.etcd_peer_port,
            "nodes": [{"index": n.index, "pg_port": n.pg_port, "api_port": n.api_port} for n in self.nodes],
        }
        (self.home / "ha.json").write_text(json.dumps(meta, indent=2) + "\n")

    def _secrets(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.home / "secrets.json").read_text())
        return data

    # -- etcd ------------------------------------------------------------------------------
    @property
    def etcd_dir(self) -> Path:
        return self.home / "etcd"

    def etcd_pid(self) -> int | None:
        return pid_running(self.etcd_dir / "etcd.pid", str(self.etcd_dir / "data"))

    def _etcd_healthy(self) -> bool | None:
        health = _http_json(f"http://127.0.0.1:{self.etcd_client_port}/health")
        return True if isinstance(health, dict) and health.get("health") == "true" else None

    def _start_etcd(self) -> None:
        if self.etcd_pid() is not None:
            return
        make_dirs(self.etcd_dir, self.etcd_dir / "data")
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_client_port}"
        name = "etcd-1"
        pid = spawn_as_server(
            [
                shutil.which("etcd") or "etcd",
                "--name", name,
                "--data-dir", str(self.etcd_dir / "data"),
                "--listen-peer-urls", peer,
                "--initial-advertise-peer-urls", peer,
                "--listen-client-urls", client,
                "--advertise-client-urls", client,
                "--initial-cluster", f"{name}={peer}",
                "--initial-cluster-token", self.scope,
                "--initial-cluster-state", "new",
                "--auto-compaction-retention", "1",
                "--log-level", "warn",
            ],
            cwd=self.etcd_dir,
            log=self.etcd_dir / "etcd.log",
        )
        (self.etcd_dir / "etcd.pid").write_text(f"{pid}\n")
        wait_for(self._etcd_healthy, 30, f"etcd on 127.0.0.1:{self.etcd_client_port} (see {self.etcd_dir}/etcd.log)")

    # -- patroni ---------------------------------------------------------------------------
    def _render(self, node: HANode) -> str:
        template = string.Template((deploy_dir() / "patroni.yml.tmpl").read_text())
        secret = self._secrets()
        return template.substitute(
            scope=self.scope,
            name=node.name,
            api_port=node.api_port,
            etcd_hosts=f"127.0.0.1:{self.etcd_client_port}",
            license=self.license,
            pg_port=node.pg_port,
            data_dir=node.data_dir,
            bin_dir=self.bindir,
            node_dir=node.dir,
            socket_dir=node.socket_dir,
            superuser_password=secret["superuser"],
            replication_password=secret["replication"],
        )

    def _start_node(self, node: HANode) -> None:
        if node.patroni_pid() is not None:
            return
        make_dirs(node.dir, node.socket_dir)
        write_private(node.config, self._render(node))
        stale = node.postmaster_pid()
        if stale is not None:  # a postmaster left by a Patroni that was killed: Patroni wants to start its own
            stop_pid(stale, timeout=STOP_TIMEOUT, sig=signal.SIGINT)
        env = clean_env(node.dir)
        env["PATRONI_LOG_LEVEL"] = "INFO"
        pid = spawn_as_server([shutil.which("patroni") or "patroni", str(node.config)], cwd=node.dir,
                              log=node.log, env=env)
        node.pid_file.write_text(f"{pid}\n")
        own(node.log)

    def up(self, timeout: float = BOOTSTRAP_TIMEOUT) -> float:
        """Start etcd and every node; wait for a leader, every member running and a sync standby. Seconds taken."""
        started = time.monotonic()
        self._start_etcd()
        for node in self.nodes:
            self._start_node(node)
        self.wait_healthy(timeout=timeout)
        self._ensure_database()
        return time.monotonic() - started

    def members(self) -> list[dict[str, Any]]:
        """Patroni's /cluster members, asked of the first node that answers ([] when none does)."""
        for node in self.nodes:
            try:
                data = _http_json(f"http://127.0.0.1:{node.api_port}/cluster")
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return list(data.get("members") or [])
        return []

    def wait_healthy(self, *, timeout: float = BOOTSTRAP_TIMEOUT, members: int | None = None) -> dict[str, Any]:
        """Wait for a leader, ``members`` (default: all) members running or streaming, and a sync standby."""
        want = len(self.nodes) if members is None else members

        def healthy() -> dict[str, Any] | None:
            found = self.members()
            leaders = [m for m in found if m.get("role") == "leader" and m.get("state") == "running"]
            ok = [m for m in found if m.get("state") in ("running", "streaming")]
            sync = [m for m in found if m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming")]
            if len(leaders) == 1 and len(ok) >= want and sync:
                return {"leader": leaders[0]["name"], "sync_standby": sync[0]["name"], "members": found}
            return None

        logs = ", ".join(str(n.log) for n in self.nodes)
        return wait_for(healthy, timeout, f"a leader, {want} running members and a sync standby (see {logs})", 0.25)

    def leader(self) -> str | None:
        for m in self.members():
            if m.get("role") == "leader":
                return str(m["name"])
        return None

    def node(self, name: str) -> HANode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise ClusterError(f"no node {name!r} in {self.home}")

    def _ensure_database(self) -> None:
        leader = self.leader()
        if leader is None:
            raise ClusterError("no leader")

        def created() -> bool:
            with psycopg.connect(self.node(leader).local_conninfo("postgres"), autocommit=True,
                                 connect_timeout=5) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
            return True

        wait_for(created, 30, f"database {DATABASE} on the leader {leader}")

    def down(self) -> None:
        """Stop every Patroni (it stops its PostgreSQL), any postmaster a killed Patroni left, then etcd."""
        for node in self.nodes:
            pid = node.patroni_pid()
            if pid is not None:
                stop_pid(pid, timeout=STOP_TIMEOUT)
            node.pid_file.unlink(missing_ok=True)
        for node in self.nodes:
            orphan = node.postmaster_pid()
            if orphan is not None:
                stop_pid(orphan, timeout=STOP_TIMEOUT, sig=signal.SIGINT)
        pid = self.etcd_pid()
        if pid is not None:
            stop_pid(pid, timeout=30)
        (self.etcd_dir / "etcd.pid").unlink(missing_ok=True)

    def remove(self) -> None:
        self.down()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- what clients use ------------------------------------------------------------------
    @property
    def passfile(self) -> Path:
        """A libpq passfile for the superuser on every node (0600, the caller's): URLs name it."""
        path = self.home / "pgpass"
        if not path.exists():
            password = self._secrets()["superuser"]
            lines = "".join(f"127.0.0.1:{n.pg_port}:*:{SUPERUSER}:{password}\n" for n in self.nodes)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(lines)
        return path

    def url(self, dbname: str = DATABASE, *, read: bool = False) -> str:
        """The multi-host URL: read-write reaches the leader wherever it is; ``read`` prefers a standby."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        attrs = "prefer-standby&load_balance_hosts=random" if read else "read-write"
        return (f"postgresql://{SUPERUSER}@{hosts}/{dbname}?target_session_attrs={attrs}"
                f"&passfile={quote(str(self.passfile))}&connect_timeout=3")

    def migrate(self, timeout: float = 600) -> None:
        """`ops-db migrate --url <multi-host URL>`: the schema goes through whichever node leads."""
        result = subprocess.run(
            [sys.executable, "-m", "ops_db", "migrate", "--url", self.url()],
            capture_output=True, text=True, timeout=timeout, check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )
        if result.returncode != 0:
            raise ClusterError(f"ops-db migrate on the HA cluster failed: {(result.stderr or result.stdout)[-800:]}")

    def status(self) -> list[dict[str, Any]]:
        """Per node: Patroni's role and state, its lag, and the node's own answer to the role/lag query."""
        by_name = {m.get("name"): m for m in self.members()}
        out = []
        for node in self.nodes:
            member = by_name.get(node.name, {})
            entry: dict[str, Any] = {
                "name": node.name,
                "port": node.pg_port,
                "api_port": node.api_port,
                "patroni_running": node.patroni_pid() is not None,
                "role": member.get("role"),
                "state": member.get("state"),
                "lag": member.get("lag"),
                "timeline": member.get("timeline"),
            }
            try:
                role = node_role_of(node.local_conninfo("postgres"), timeout=3)
                entry["node_role"] = role.line()
            except psycopg.Error:
                entry["node_role"] = None
            out.append(entry)
        return out


def _distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
