"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl in a temp folder, on 127.0.0.1,
one database per test. Debian's postgresql package (the Makefile installs it); never a stand-in.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from ports import free_port

USER = "ccf"
PASSWORD = "ccf-test-" + uuid.uuid4().hex[:12]  # given to the store through the environment


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parent.parent.name))
    if not versions:
        raise RuntimeError("PostgreSQL's server is not installed (no pg_ctl): `make test` "
                           "installs Debian's postgresql; or apt-get install postgresql")
    return Path(versions[-1]).parent


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    owner: str | None  # the OS user the server runs as, when the tests run as root

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def psql(self, sql: str, db: str = "postgres") -> str:
        # the superuser over the cluster's own socket (peer: the OS user), never the network
        return self._run(self.bin / "psql", "-h", str(self.folder), "-p", str(self.port), "-U",
                         "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql).stdout

    def url(self, db: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        self.psql(f"CREATE DATABASE {name} OWNER {USER}")
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def halt(self) -> None:
        """Stop the server, keeping its data (`start_again` brings it back): a lost
        connection for every client."""
        self._run(self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "fast", "-w", "stop")

    def start_again(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.folder / "data", "-l", self.folder / "log",
                  "-w", "-o", f"-k {self.folder}", "start")

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    """initdb, start on a free loopback port, a password role `ccf`; the caller stops it."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="ccf-pg-"))
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: the package's postgres user runs it
        owner = "postgres"
        pwd.getpwnam(owner)
        os.chmod(folder, 0o700)  # local sockets are trusted: the folder is the server's alone
        shutil.chown(folder, owner)
    cluster = Cluster(folder, free_port(), bin_dir, owner)
    try:
        _make_and_start(cluster)
    except BaseException:
        # a cluster half made (started, then CREATE ROLE failed): stopped and removed
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster._run(bin_dir / "pg_ctl", "-D", folder / "data", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return cluster


def _make_and_start(cluster: Cluster) -> None:
    bin_dir, folder = cluster.bin, cluster.folder
    cluster._run(bin_dir / "initdb", "-D", folder / "data", "-U", "postgres",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                 "--locale", "C.UTF-8")
    conf = folder / "data" / "postgresql.conf"
    with conf.open("a") as f:
        f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\n"
                f"unix_socket_directories = '{folder}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n")
    cluster._run(bin_dir / "pg_ctl", "-D", folder / "data", "-l", folder / "log", "-w",
                 "-o", f"-k {folder}", "start")
    cluster.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
