"""A throwaway PostgreSQL server on a loopback port, for benchmarks/pipeline.py.

Debian's ``postgresql`` server programs (``/usr/lib/postgresql/*/bin``, or ``pg_config
--bindir``), as tests/test_postgres_e2e.py starts them: ``initdb`` in a temporary directory,
``pg_ctl start`` on a free 127.0.0.1 port (as the ``postgres`` system user when run as root,
since ``initdb`` refuses root), stopped and removed at the end. :func:`server` yields None
where the programs are missing.
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

if TYPE_CHECKING:
    from collections.abc import Iterator

SERVER_USER = "postgres"


@dataclass
class Server:
    """A running server: where it listens, its password, and psql."""

    bindir: Path
    port: int
    password: str
    user: str = "postgres"
    database: str = "postgres"

    def sql(self, statement: str) -> str:
        """Run one statement with psql; its unaligned output.

        Args:
            statement: The SQL.

        Returns:
            What psql printed.
        """
        result = subprocess.run(
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", self.database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
            env={**os.environ, "PGPASSWORD": self.password}, capture_output=True, text=True,
            timeout=300, check=True,
        )  # fmt: skip
        return result.stdout.strip()


def bindir() -> Path | None:
    """Where initdb, pg_ctl, postgres and psql are, or None.

    Returns:
        The directory.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()  # fmt: skip
            candidates.append(Path(out))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for directory in candidates:
        if all((directory / n).is_file() for n in ("initdb", "pg_ctl", "postgres", "psql")):
            return directory
    return None


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
    return ["runuser", "-u", SERVER_USER, "--"]


@contextlib.contextmanager
def server() -> Iterator[Server | None]:
    """A running server for the block (None without the server programs).

    Yields:
        The server, or None.
    """
    programs = bindir()
    if programs is None:
        yield None
        return
    prefix = _as_server_user()
    home = Path(tempfile.mkdtemp(prefix="tap-impact-bench-pg-"))
    data, pwfile = home / "data", home / "pwfile"
    password = uuid.uuid4().hex
    pwfile.write_text(password + "\n")
    if prefix:
        shutil.chown(home, SERVER_USER, SERVER_USER)
        shutil.chown(pwfile, SERVER_USER, SERVER_USER)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    pg_ctl = [*prefix, str(programs / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run([*prefix, str(programs / "initdb"), "-D", str(data), "-U", "postgres",
                        "-E", "UTF8", "--no-sync", f"--pwfile={pwfile}", "--auth-local=trust",
                        "--auth-host=scram-sha-256"],
                       capture_output=True, timeout=120, check=True)  # fmt: skip
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home} "
                   "-c timezone=UTC -c fsync=off -c full_page_writes=off")  # fmt: skip
        subprocess.run([*pg_ctl, "-l", str(home / "server.log"), "-w", "-t", "60", "-o", options,
                        "start"], capture_output=True, timeout=120, check=True)  # fmt: skip
        yield Server(programs, port, password)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "-t", "60", "stop"],
                           capture_output=True, timeout=120, check=False)  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)
