"""The README's first command: a real sync, tap -> DuckDB through ``meltano run``.

Without impact.com credentials in the environment (``TAP_IMPACT_CLICKS_ACCOUNT_SID`` and
``TAP_IMPACT_CLICKS_AUTH_TOKEN``), the built-in sandbox is started and the tap pointed at it.
Prints one summary line of what the warehouse holds.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.config import unique_job_prefix

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSES = {"dev": "output/impact.duckdb", "sandbox": "output/sandbox.duckdb"}
SANDBOX_DAYS = 7

_SUMMARY_SQL = (
    "select count(*), count(distinct export_date), count(distinct programid) from impact.clicks"
)


def meltano_executable() -> str:
    """The meltano command of this environment (exits with a message if missing).

    Returns:
        Its path.
    """
    found = shutil.which("meltano", path=str(Path(sys.executable).parent)) or shutil.which(
        "meltano"
    )
    if found is None:
        sys.stderr.write("quickstart: meltano is not installed (pip install -e '.[dev]')\n")
        raise SystemExit(2)
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(
            f"quickstart: {' '.join(command[1:3])} failed (exit {result.returncode})\n"
        )
        raise SystemExit(result.returncode)


def summary(path: str) -> tuple[int, int, int]:
    """Rows, days and programs in the warehouse's clicks table.

    Args:
        path: The DuckDB file.

    Returns:
        (rows, days, programs); all 0 before the first load.
    """
    if not (PROJECT_ROOT / path).exists():
        return 0, 0, 0
    python = PROJECT_ROOT / ".meltano/loaders/target-duckdb/venv/bin/python"
    code = (
        "import duckdb,sys;"
        f"c=duckdb.connect({path!r},read_only=True);"
        f"print(*c.execute({_SUMMARY_SQL!r}).fetchone())"
    )
    out = subprocess.run(  # noqa: S603
        [str(python), "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    rows, days, programs = (int(x) for x in out)
    return rows, days, programs


def main() -> None:
    """Install the Meltano plugins, run the sync, print the summary."""
    env = dict(os.environ)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    sandbox: Sandbox | None = None
    environment = "dev"
    if not env.get("TAP_IMPACT_CLICKS_ACCOUNT_SID") or not env.get("TAP_IMPACT_CLICKS_AUTH_TOKEN"):
        sandbox = Sandbox(
            SandboxConfig(latency=2.0, page_size=50, job_id_prefix=unique_job_prefix())
        ).start()
        start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=SANDBOX_DAYS)
        env.update(
            {
                "TAP_IMPACT_CLICKS_ACCOUNT_SID": sandbox.config.account_sid,
                "TAP_IMPACT_CLICKS_AUTH_TOKEN": sandbox.config.auth_token,
                "TAP_IMPACT_CLICKS_API_URL": sandbox.url,
                "TAP_IMPACT_CLICKS_START_DATE": env.get(
                    "TAP_IMPACT_CLICKS_START_DATE", start.isoformat()
                ),
            }
        )
        environment = "sandbox"
        sys.stdout.write(
            f"quickstart: no credentials set, using the built-in sandbox at {sandbox.url}\n"
        )
    (PROJECT_ROOT / "output").mkdir(exist_ok=True)
    meltano = meltano_executable()
    warehouse = env.get("TARGET_DUCKDB_FILEPATH", WAREHOUSES[environment])
    try:
        _run([meltano, "install"], env)
        before = summary(warehouse)[0]
        _run(
            [meltano, f"--environment={environment}", "run", "tap-impact-clicks", "target-duckdb"],
            env,
        )
    finally:
        if sandbox is not None:
            sandbox.stop()
    rows, days, programs = summary(warehouse)
    exports = f" with {sandbox.count('ClickExport')} ClickExport call(s)" if sandbox else ""
    sys.stdout.write(
        f"This run added {rows - before} row(s){exports}; {warehouse} (table impact.clicks) "
        f"now holds {rows} rows, {days} days, {programs} programs.\n"
    )


if __name__ == "__main__":
    main()
