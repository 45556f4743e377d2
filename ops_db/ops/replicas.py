"""Local streaming replicas: the local cluster as primary, N hot standbys made with ``pg_basebackup -R``.

Layout: the primary is the local cluster (``ops-db db up``, OPS_DB_HOME); standby ``i`` lives in
``<home>/replicas/replica-<i>`` with its own data directory, socket directory and port on
127.0.0.1, and streams from the primary through a physical replication slot of the same name
(dropped again when the standby is removed). Every standby preloads TimescaleDB, as the primary
does: the extension's catalog comes with the WAL, its library must be there to read it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from ops_db.core.errors import ClusterError
from ops_db.ops.cluster import DATABASE, SUPERUSER, LocalCluster, free_port, pg_bindir
from ops_db.ops.nodes import NodeRole, node_role_of, wait_for

REPLICAS_DIR = "replicas"
START_TIMEOUT = 90.0


def slot_name(index: int) -> str:
    return f"ops_db_replica_{index}"


@dataclass
class Standby:
    """One hot standby: a LocalCluster layout (data, run, log) whose server follows the primary."""

    index: int
    cluster: LocalCluster

    @property
    def name(self) -> str:
        return f"replica-{self.index}"

    @property
    def port(self) -> int:
        return self.cluster.port

    def conninfo(self, dbname: str = DATABASE) -> str:
        return self.cluster.conninfo(dbname)

    def url(self, dbname: str = DATABASE) -> str:
        return self.cluster.url(dbname)


@dataclass
class ReplicaSet:
    """The primary (the local cluster) and its standbys."""

    primary: LocalCluster

    @classmethod
    def from_env(cls) -> ReplicaSet:
        return cls(LocalCluster.from_env())

    @property
    def base(self) -> Path:
        return self.primary.home / REPLICAS_DIR

    def standbys(self) -> list[Standby]:
        found = []
        if not self.base.is_dir():
            return []
        for home in sorted(self.base.glob("replica-*"), key=lambda p: int(p.name.rsplit("-", 1)[1])):
            saved = home / "cluster.json"
            if not saved.exists():
                continue
            meta = json.loads(saved.read_text())
            cluster = LocalCluster(home, int(meta["port"]), meta.get("license"), Path(meta["bindir"]))
            found.append(Standby(int(meta["index"]), cluster))
        return found

    # -- lifecycle ------------------------------------------------------------------------
    def up(self, count: int, *, ports: list[int] | None = None) -> list[Standby]:
        """Start the primary and make sure ``count`` standbys exist and run (more are left alone)."""
        if count < 0:
            raise ClusterError("the number of replicas cannot be negative")
        self.primary.up()
        existing = {s.index: s for s in self.standbys()}
        for index in range(1, count + 1):
            standby = existing.get(index)
            if standby is None:
                port = ports[index - 1] if ports and len(ports) >= index else free_port()
                standby = self._create(index, port)
                existing[index] = standby
            if not standby.cluster.is_running():
                standby.cluster.start()
        result = [existing[i] for i in sorted(existing)]
        for standby in result:
            if standby.cluster.is_running():
                self._wait_streaming(standby)
        return result

    def _create(self, index: int, port: int) -> Standby:
        bindir = self.primary.bindir or pg_bindir()
        home = self.base / f"replica-{index}"
        if home.exists():
            shutil.rmtree(home)
        self.base.mkdir(parents=True, exist_ok=True)
        cluster = LocalCluster(home, port, self.primary.license, bindir, fast=self.primary.fast)
        cluster._prepare_home()
        slot = slot_name(index)
        with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
            if exists:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        # The primary's socket, trust auth (initdb --auth-local=trust): no password exists to leak.
        cluster._run(
            [
                str(bindir / "pg_basebackup"),
                "--pgdata", str(cluster.data_dir),
                "--host", str(self.primary.socket_dir),
                "--port", str(self.primary.port),
                "--username", SUPERUSER,
                "--write-recovery-conf",
                "--wal-method", "stream",
                "--checkpoint", "fast",
                "--create-slot", "--slot", slot,
                "--no-password",
            ],
            timeout=600,
        )
        # The copied ops_db.conf names the primary's port and socket: this node's own instead.
        conf = cluster._config() + (
            f"hot_standby = on\nhot_standby_feedback = on\ncluster_name = '{self.primary.home.name}-{index}'\n"
        )
        (cluster.data_dir / "ops_db.conf").write_text(conf)
        for stale in ("postmaster.pid", "postmaster.opts"):
            (cluster.data_dir / stale).unlink(missing_ok=True)
        from ops_db.ops.nodes import own

        own(cluster.data_dir / "ops_db.conf")
        meta = {"port": port, "license": cluster.license, "bindir": str(bindir), "index": index, "standby": True}
        (home / "cluster.json").write_text(json.dumps(meta, indent=2) + "\n")
        return Standby(index, cluster)

    def _wait_streaming(self, standby: Standby, timeout: float = START_TIMEOUT) -> None:
        slot = slot_name(standby.index)

        def streaming() -> bool | None:
            with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
                ).fetchone()
            return True if row and row[0] else None

        wait_for(streaming, timeout, f"{standby.name} to stream from the primary (see {standby.cluster.log_file})")

    def down(self) -> list[str]:
        """Stop every standby (their data stays). The primary is `ops-db db down`'s."""
        stopped = []
        for standby in self.standbys():
            if standby.cluster.down():
                stopped.append(standby.name)
        return stopped

    def remove(self) -> list[str]:
        """Stop and delete every standby and drop its replication slot on the primary."""
        removed = []
        for standby in self.standbys():
            standby.cluster.destroy()
            removed.append(standby.name)
        if self.primary.is_initialized() and self.primary.is_running():
            with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name LIKE 'ops\\_db\\_replica\\_%' AND NOT active"
                )
        shutil.rmtree(self.base, ignore_errors=True)
        return removed

    # -- what runs where ------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """One entry per node: name, port, running, role and lag (None when it cannot be asked)."""
        nodes: list[tuple[str, LocalCluster]] = [("primary", self.primary)]
        nodes += [(s.name, s.cluster) for s in self.standbys()]
        out = []
        for name, cluster in nodes:
            running = cluster.is_initialized() and cluster.is_running()
            role: NodeRole | None = None
            error = None
            if running:
                try:
                    role = node_role_of(cluster.conninfo("postgres"))
                except psycopg.Error as exc:
                    error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out.append(
                {
                    "name": name,
                    "port": cluster.port,
                    "running": running,
                    "role": role.role if role else None,
                    "lag_seconds": role.lag_seconds if role else None,
                    "lag_bytes": role.lag_bytes if role else None,
                    "replicas": role.replicas if role else None,
                    "error": error,
                }
            )
        return out

    def read_url(self, dbname: str = DATABASE) -> str:
        """A multi-host URL over every node's socket that prefers a standby (libpq picks; falls back to the primary)."""
        nodes = [self.primary] + [s.cluster for s in self.standbys()]
        hosts = ",".join(str(c.socket_dir) for c in nodes)
        ports = ",".join(str(c.port) for c in nodes)
        return make_conninfo(
            host=hosts, port=ports, user=SUPERUSER, dbname=dbname,
            target_session_attrs="prefer-standby", load_balance_hosts="random",
        )
