"""A throwaway PostgreSQL server: the e2e tests' ``postgres`` fixture, and benchmarks/pipeline.py.

Debian's ``postgresql`` (``initdb``/``pg_ctl``), started in a temporary directory on a free
loopback port, its sessions in UTC, and stopped after the test (or the benchmark); tests that
use it are skipped when those programs are absent (``.ci/run`` installs them). As root, the
server runs as the ``postgres`` system user (created when missing): ``initdb`` refuses root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

SERVER_USER = "postgres"
PASSWORD = "e2e-" + uuid.uuid4().hex  # this run's own, for the password (scram) path


# -- a throwaway PostgreSQL server --------------------------------------------------------


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)


def postgres_bindir() -> Path | None:
    """Where initdb, pg_ctl, postgres and psql are: pg_config, Debian's layout, or PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()  # fmt: skip
            candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    return None


def _as_server_user() -> list[str]:
    """The command prefix that runs a program as the server's user (none unless root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SERVER_USER, "--"]
    return ["su", SERVER_USER, "-s", "/bin/sh", "-c", '"$0" "$@"']  # argv kept as is


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Postgres:
    """A running server: where it listens, and how to query it."""

    bindir: Path
    port: int
    password: str = PASSWORD
    user: str = "postgres"
    database: str = "postgres"

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query, as text (psql's unaligned output)."""
        result = subprocess.run(
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", self.database, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={**os.environ, "PGPASSWORD": self.password}, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def value(self, sql: str) -> str:
        """The single value of a query."""
        ((value,),) = self.query(sql)
        return value


@contextlib.contextmanager
def running_server() -> Iterator[Postgres | None]:
    """A running server for the block; None where the server programs are missing.

    Yields:
        The server, or None.
    """
    bindir = postgres_bindir()
    if bindir is None:
        yield None
        return
    prefix = _as_server_user()
    # Not pytest's tmp_path: the server's user must be able to reach its directory.
    home = Path(tempfile.mkdtemp(prefix="tap-impact-pg-"))
    data, log, pwfile = home / "data", home / "server.log", home / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if prefix:
        shutil.chown(home, SERVER_USER, SERVER_USER)
        shutil.chown(pwfile, SERVER_USER, SERVER_USER)
    port = _free_port()
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        initdb = subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
             "--no-sync", f"--pwfile={pwfile}", "--auth-local=trust",
             "--auth-host=scram-sha-256"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert initdb.returncode == 0, initdb.stderr
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home} "
                   "-c timezone=UTC -c fsync=off -c full_page_writes=off")  # fmt: skip
        started = subprocess.run(
            [*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", options, "start"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr + (log.read_text() if log.exists() else "")
        yield Postgres(bindir, port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "-t", "60", "stop"],
                           capture_output=True, timeout=120, check=False)  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    with running_server() as server:
        if server is None:
            pytest.skip(
                "PostgreSQL server programs not found (initdb, pg_ctl, postgres, psql via "
                "pg_config --bindir, /usr/lib/postgresql/*/bin or PATH): install Debian's "
                "`postgresql` package (.ci/run does)"
            )
        yield server
