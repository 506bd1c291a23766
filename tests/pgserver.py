"""A throwaway PostgreSQL cluster for the tests and benchmarks.

Started from the server binaries on the machine (``/usr/lib/postgresql/*/bin``)
in a temporary folder, listening on a free localhost port, with fsync off
(nothing here must survive a crash). PostgreSQL refuses to run as root, so as
root the cluster runs as the ``postgres`` user (or ``nobody``). On a server, tests
and benchmarks work in databases of their own (`throwaway_database`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def find_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no postgres/nobody user to run PostgreSQL as")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a cluster; yield its SQLAlchemy URL (database ``lgs``); stop and remove it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found; install them "
            "(apt-get install postgresql) or set LGS_TEST_DATABASE_URL"
        )
    prefix = _run_as()
    root = Path(tempfile.mkdtemp(prefix="lgs-pg-"))
    data = root / "data"
    if prefix:
        user = prefix[2]
        pw = pwd.getpwnam(user)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    port = free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "lgs",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB "
            "-c max_connections=40"
        )
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "lgs",
                "lgs",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://lgs@127.0.0.1:{port}/lgs"
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def server_url() -> Iterator[str]:
    """``LGS_TEST_DATABASE_URL`` if set (its user needs CREATEDB), else a throwaway cluster."""
    given = os.environ.get("LGS_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with postgres_server() as url:
        yield url


def admin_engine(server_url: str) -> Any:
    """An autocommit SQLAlchemy engine on the server's URL, to create and drop databases."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql+psycopg2")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def throwaway_database(
    server_url: str, admin: Any, name: str, *, template: str | None = None
) -> Iterator[str]:
    """A new database ``name`` on the server (a copy of ``template``, if given), made with
    the `admin_engine` ``admin``: its URL; dropped afterwards."""
    from sqlalchemy.engine import make_url

    recreate_database(admin, name, template=template)
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)


def recreate_database(admin: Any, name: str, *, template: str | None = None) -> None:
    """Drop database ``name`` if it exists, and create it again: empty, or a copy of
    ``template``."""
    from sqlalchemy import text

    drop_database(admin, name)
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))


def drop_database(admin: Any, name: str) -> None:
    """Drop database ``name`` if it exists, closing whatever is still connected to it."""
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":  # a server for manual use: python tests/pgserver.py
    with postgres_server() as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
