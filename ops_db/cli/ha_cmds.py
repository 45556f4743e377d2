"""ops-db replicas up|down|status|url, ops-db ha up|down|status|url, ops-db pitr check: beyond one machine.

See docs/deployment.md for the topologies. No command prints a password: the HA cluster's URL
names a passfile that only root and the server user can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ops_db.cli.app import app, console, flag, print_json, sub_app
from ops_db.cli.ops_cmds import NagiosCommand
from ops_db.core.errors import ExitCode

replicas_app = sub_app("Local streaming replicas of the local cluster (pg_basebackup -R, hot standbys).")
ha_app = sub_app("A local Patroni HA cluster on loopback: one etcd, three PostgreSQL + TimescaleDB nodes.")
pitr_app = sub_app("Point-in-time recovery with pgBackRest (scripts/pitr.sh does the cron work).")
app.add_typer(replicas_app, name="replicas")
app.add_typer(ha_app, name="ha")
app.add_typer(pitr_app, name="pitr")

JsonFlag = Annotated[bool, flag("--json", "OPS_DB_REPLICAS_JSON", "Machine-readable output.")]


# -- replicas -----------------------------------------------------------------------------------
@replicas_app.command("up")
def replicas_up(
    count: Annotated[int, typer.Argument(help="How many standbys (default 1).", show_default=False)] = 1,
) -> None:
    """Start the local cluster as primary and COUNT streaming standbys beside it (ports on 127.0.0.1)."""
    from ops_db.ops.replicas import ReplicaSet

    replica_set = ReplicaSet.from_env()
    standbys = replica_set.up(count)
    for standby in standbys:
        console.print(f"{standby.name}: port {standby.port}, home {standby.cluster.home}")
    console.print(f"primary: port {replica_set.primary.port}; reads: ops-db replicas url")


@replicas_app.command("down")
def replicas_down(
    remove: Annotated[
        bool, flag("--remove", "OPS_DB_REPLICAS_DOWN_REMOVE", "Also delete the standbys and drop their slots.")
    ] = False,
) -> None:
    """Stop the standbys (the primary keeps running: ops-db db down stops it)."""
    from ops_db.ops.replicas import ReplicaSet

    replica_set = ReplicaSet.from_env()
    names = replica_set.remove() if remove else replica_set.down()
    verb = "removed" if remove else "stopped"
    console.print(f"{verb}: {', '.join(names)}" if names else f"no standby {verb}")


@replicas_app.command("status")
def replicas_status(json_out: JsonFlag = False) -> None:
    """Every node's role and replay lag. Exit 9 (NOT_RUNNING) when a node is down or cannot be asked."""
    from ops_db.ops.replicas import ReplicaSet

    nodes = ReplicaSet.from_env().status()
    if json_out:
        print_json(nodes)
    else:
        for node in nodes:
            if not node["running"]:
                state = "not running"
            elif node["role"] is None:
                state = f"running, not answering: {node['error']}"
            elif node["role"] == "standby":
                state = f"standby, replay lag {node['lag_seconds']:.1f}s ({node['lag_bytes']} bytes)"
            else:
                state = (f"primary, {node['replicas']} streaming, worst replay lag "
                         f"{node['lag_seconds']:.1f}s ({node['lag_bytes']} bytes)")
            console.print(f"{node['name']}: port {node['port']}: {state}")
    if any(not n["running"] or n["role"] is None for n in nodes):
        raise typer.Exit(ExitCode.NOT_RUNNING)


@replicas_app.command("url")
def replicas_url() -> None:
    """A read URL over every node that prefers a standby (target_session_attrs=prefer-standby)."""
    from ops_db.ops.replicas import ReplicaSet

    typer.echo(ReplicaSet.from_env().read_url())


# -- ha -----------------------------------------------------------------------------------------
def _ha_home(home: Path | None) -> Path:
    from ops_db.ops.ha import default_home

    return (home or default_home()).resolve()


HomeOption = Annotated[
    Path | None,
    typer.Option("--home", envvar="OPS_DB_HA_HOME", show_default=False,
                 help="Where the HA cluster lives (default <OPS_DB_HOME or .ops-db>/ha)."),
]


@ha_app.command("up")
def ha_up(
    home: HomeOption = None,
    nodes: Annotated[int, typer.Option("--nodes", envvar="OPS_DB_HA_NODES", help="PostgreSQL nodes.")] = 3,
    migrate: Annotated[
        bool, flag("--migrate", "OPS_DB_HA_UP_MIGRATE", "Then apply ops-db's migrations through the leader.")
    ] = False,
) -> None:
    """Start etcd and the Patroni nodes (created the first time); wait for a leader and a sync standby."""
    from ops_db.ops.ha import HACluster

    cluster = HACluster.load_or_create(_ha_home(home), nodes=nodes)
    took = cluster.up()
    if migrate:
        cluster.migrate()
    leader = cluster.leader()
    console.print(f"HA cluster up in {took:.1f}s: leader {leader}, home {cluster.home}; URL: ops-db ha url")


@ha_app.command("down")
def ha_down(
    home: HomeOption = None,
    remove: Annotated[bool, flag("--remove", "OPS_DB_HA_DOWN_REMOVE", "Also delete its data.")] = False,
) -> None:
    """Stop the Patroni nodes (and their PostgreSQL) and etcd."""
    from ops_db.ops.ha import HACluster

    path = _ha_home(home)
    if not (path / "ha.json").exists():
        console.print(f"no HA cluster in {path}")
        return
    cluster = HACluster.load(path)
    cluster.down()
    if remove:
        cluster.remove()
    console.print(("removed " if remove else "stopped ") + str(path))


@ha_app.command("status")
def ha_status(
    home: HomeOption = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_HA_STATUS_JSON", "Machine-readable output.")] = False,
) -> None:
    """Patroni's view of every member (role, state, lag) and each node's own answer.

    Exit 9 (NOT_RUNNING) when there is no leader."""
    from ops_db.ops.ha import HACluster

    cluster = HACluster.load(_ha_home(home))
    members = cluster.status()
    if json_out:
        print_json(members)
    else:
        for m in members:
            own = m.get("node_role") or "-"
            console.print(f"{m['name']}: port {m['port']}: {m.get('role') or '-'} ({m.get('state') or 'down'}), "
                          f"lag {m.get('lag', '-')}; node says: {own}")
    if not any(m.get("role") == "leader" for m in members):
        raise typer.Exit(ExitCode.NOT_RUNNING)


@ha_app.command("url")
def ha_url(
    home: HomeOption = None,
    read: Annotated[bool, flag("--read", "OPS_DB_HA_URL_READ", "A URL that prefers a standby.")] = False,
) -> None:
    """The multi-host URL (target_session_attrs=read-write); its password is in a passfile, never printed."""
    from ops_db.ops.ha import HACluster

    typer.echo(HACluster.load(_ha_home(home)).url(read=read))


# -- pitr ---------------------------------------------------------------------------------------
@pitr_app.command("configure")
def pitr_configure(
    config: Annotated[Path, typer.Option("--config", envvar="PGBACKREST_CONFIG", help="pgbackrest.conf to write.")],
    repo: Annotated[Path, typer.Option("--repo", envvar="OPS_DB_PITR_REPO", help="The repository directory.")],
    stanza: Annotated[str, typer.Option("--stanza", envvar="PITR_STANZA", help="The stanza.")] = "ops-db",
    pg_path: Annotated[
        Path | None,
        typer.Option("--pg-path", envvar="OPS_DB_PITR_PG_PATH", show_default=False,
                     help="The server's data directory (default: the local cluster's)."),
    ] = None,
    pg_port: Annotated[
        int | None, typer.Option("--pg-port", envvar="OPS_DB_PITR_PG_PORT", show_default=False, help="Its port.")
    ] = None,
    pg_socket: Annotated[
        Path | None,
        typer.Option("--pg-socket", envvar="OPS_DB_PITR_PG_SOCKET", show_default=False,
                     help="Its unix socket directory."),
    ] = None,
    archive: Annotated[
        bool,
        flag("--archive", "OPS_DB_PITR_CONFIGURE_ARCHIVE",
             "Also set archive_mode and archive_command on the server (ALTER SYSTEM, through --url or the socket)."),
    ] = False,
    url: Annotated[
        str | None, typer.Option("--url", envvar="OPS_DB_URL", show_default=False, help="With --archive: the server.")
    ] = None,
) -> None:
    """Write pgbackrest.conf from deploy/pgbackrest.conf.tmpl (lock, log and spool paths beside it)."""
    from psycopg.conninfo import make_conninfo

    from ops_db.ops.cluster import SUPERUSER, LocalCluster
    from ops_db.ops.pitr import Layout, enable_archiving, write_config

    local = LocalCluster.from_env()
    layout = Layout(config.resolve(), repo.resolve(), stanza)
    socket = (pg_socket or local.socket_dir).resolve()
    port = pg_port or local.port
    write_config(layout, pg_path=(pg_path or local.data_dir).resolve(), pg_port=port, pg_socket=socket)
    console.print(f"wrote {layout.config}; next: PGBACKREST_CONFIG={layout.config} scripts/pitr.sh setup")
    if archive:
        target = _conninfo_or_none(url) or make_conninfo(host=str(socket), port=str(port), user=SUPERUSER,
                                                         dbname="postgres")
        if enable_archiving(target, layout):
            console.print("archiving configured: restart the server for archive_mode to take effect")
        else:
            console.print("archiving configured (reloaded)")


@pitr_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
)
def pitr_run(ctx: typer.Context) -> None:
    """Run the shipped scripts/pitr.sh with the arguments given (setup, full, diff, verify, restore ...).

    E.g. `ops-db pitr run full`, `ops-db pitr run --help`. Its exit code is this command's.
    """
    import os
    import shutil
    import sys

    from ops_db.core.errors import ConfigurationError
    from ops_db.core.paths import scripts_dir

    bash = shutil.which("bash")
    if bash is None:
        raise ConfigurationError("bash is not installed")
    sys.stdout.flush()
    # exec, not a child: the exit code, signals and kill -9 of the script are this command's.
    os.execv(bash, [bash, str(scripts_dir() / "pitr.sh"), *ctx.args])  # noqa: S606


@pitr_app.command("check", cls=NagiosCommand)
def pitr_check(
    config: Annotated[Path, typer.Option("--config", envvar="PGBACKREST_CONFIG", help="pgbackrest.conf to read.")],
    stanza: Annotated[str, typer.Option("--stanza", envvar="PITR_STANZA", help="The stanza.")] = "ops-db",
    url: Annotated[
        str | None,
        typer.Option("--url", envvar="OPS_DB_URL", show_default=False,
                     help="Also read pg_stat_archiver on this server (archive failures)."),
    ] = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_PITR_CHECK_JSON", "Machine-readable output.")] = False,
) -> None:
    """Age of the newest pgBackRest backup and archive failures, with Nagios exit codes (0, 1, 2, 3)."""
    from ops_db.ops.pitr import backup_health

    result = backup_health(config, stanza, conninfo=_conninfo_or_none(url))
    if json_out:
        print_json(result.as_dict())
    else:
        typer.echo(result.line())
    raise typer.Exit(int(result.status))


def _conninfo_or_none(url: str | None) -> str | None:
    if url is None:
        return None
    from ops_db.cli.app import conninfo

    return conninfo(url)
