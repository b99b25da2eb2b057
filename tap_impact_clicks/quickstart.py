"""The README's first command: a real sync, tap -> DuckDB through ``meltano run``.

Without impact.com credentials in the environment (``TAP_IMPACT_CLICKS_ACCOUNT_SID`` and
``TAP_IMPACT_CLICKS_AUTH_TOKEN``), the built-in sandbox is started and the tap pointed at it.
Prints one summary line of what the warehouse holds.

From a source checkout it runs in the repository's Meltano project. Installed from a wheel
(or with ``--project DIR``) it runs in a Meltano project of its own, made on the first run from
the ``meltano.yml`` the package ships (the repository's): its extractor runs the installed
``tap-impact-clicks`` (no ``pip_url``), and ``meltano install`` installs target-duckdb from the
package registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import typing as t
from importlib import resources
from pathlib import Path

from tap_impact_clicks import __version__
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.config import unique_job_prefix

PROG = "tap-impact-clicks-quickstart"
#: The source checkout's root when the package is imported from one (else site-packages).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The project the quickstart makes when not run from a source checkout.
DEFAULT_PROJECT = "tap-impact-clicks-quickstart"
WAREHOUSES = {"dev": "output/impact.duckdb", "sandbox": "output/sandbox.duckdb"}
SANDBOX_DAYS = 7

_SUMMARY_SQL = (
    "select count(*), count(distinct export_date), count(distinct programid) from impact.clicks"
)
#: The repository's extractor, installed by Meltano from the checkout: both lines are
#: replaced in a made project (tests/test_package_metadata_agrees.py checks the result).
_PIP_URL_LINE = re.compile(r"^[ ]+pip_url: -e \.[ ]*\n", re.MULTILINE)
_EXECUTABLE_LINE = re.compile(r"^([ ]+)executable: tap-impact-clicks[ ]*$", re.MULTILINE)


def source_checkout() -> bool:
    """Whether the package is imported from a source checkout (an editable install).

    Returns:
        True when the repository's pyproject.toml and meltano.yml are beside the package.
    """
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "meltano.yml").is_file()


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fail(message: str, code: int = 2) -> t.NoReturn:
    sys.stderr.write(f"{PROG}: {message}\n")
    raise SystemExit(code)


def meltano_executable() -> str:
    """The meltano command of this environment (exits with a message if missing).

    Returns:
        Its path.
    """
    found = shutil.which("meltano", path=str(Path(sys.executable).parent)) or shutil.which(
        "meltano"
    )
    if found is None:
        install = "pip install -e '.[dev]'" if source_checkout() else "pip install meltano"
        _fail(f"meltano is not installed; install it with: {install}")
    return found


def tap_executable() -> str:
    """The installed ``tap-impact-clicks`` command (exits with a message if missing).

    Returns:
        Its absolute path.
    """
    found = shutil.which(
        "tap-impact-clicks", path=str(Path(sys.executable).parent)
    ) or shutil.which("tap-impact-clicks")
    if found is None:
        _fail("the tap-impact-clicks command is not installed beside this Python")
    return str(Path(found).absolute())


def project_template() -> str:
    """The Meltano project file a made project starts from.

    Returns:
        The wheel's copy of the repository's meltano.yml, else the checkout's own.
    """
    shipped = resources.files("tap_impact_clicks") / "project" / "meltano.yml"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    return (PROJECT_ROOT / "meltano.yml").read_text(encoding="utf-8")


def project_file(template: str, executable: str) -> str:
    """The repository's meltano.yml, its extractor running an installed tap.

    Args:
        template: The repository's meltano.yml.
        executable: Absolute path of the installed ``tap-impact-clicks``.

    Returns:
        The made project's meltano.yml: the same plugins, settings and environments (and
        comments); the extractor has no ``pip_url`` (Meltano runs a plugin without one from its
        ``executable``), which is the installed tap.

    Raises:
        ValueError: The template does not declare the extractor as expected.
    """
    text, removed = _PIP_URL_LINE.subn("", template)
    text, replaced = _EXECUTABLE_LINE.subn(
        lambda match: f"{match.group(1)}executable: {json.dumps(executable)}", text
    )
    if removed != 1 or replaced != 1:
        msg = "meltano.yml: expected one `pip_url: -e .` and one `executable: tap-impact-clicks`"
        raise ValueError(msg)
    header = (
        f"# Made by {PROG} (tap-impact-clicks {__version__}) from its meltano.yml.\n"
        "# The extractor runs the installed tap-impact-clicks (it has no pip_url, so\n"
        "# `meltano install` leaves it alone); the loaders come from the package registry.\n"
    )
    return header + text


def make_project(directory: Path) -> Path:
    """The quickstart's own Meltano project, made on the first run.

    Args:
        directory: Where it is, or is to be made.

    Returns:
        The project's directory.
    """
    if (directory / "meltano.yml").is_file():
        sys.stdout.write(f"quickstart: using the Meltano project in {_shown(directory)}\n")
        return directory
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        _fail(
            f"{_shown(directory)} exists and is not a Meltano project: name another with --project"
        )
    directory.mkdir(parents=True, exist_ok=True)
    text = project_file(project_template(), tap_executable())
    (directory / "meltano.yml").write_text(text, encoding="utf-8")
    sys.stdout.write(f"quickstart: made a Meltano project in {_shown(directory)}\n")
    return directory


def _run(command: list[str], env: dict[str, str], cwd: Path = PROJECT_ROOT) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(
            f"quickstart: {' '.join(command[1:3])} failed (exit {result.returncode})\n"
        )
        raise SystemExit(result.returncode)


def summary(path: str, root: Path = PROJECT_ROOT) -> tuple[int, int, int]:
    """Rows, days and programs in the warehouse's clicks table.

    Args:
        path: The DuckDB file (relative to the project).
        root: The Meltano project (its target-duckdb has duckdb installed).

    Returns:
        (rows, days, programs); all 0 before the first load.
    """
    if not (root / path).exists():
        return 0, 0, 0
    python = root / ".meltano/loaders/target-duckdb/venv/bin/python"
    code = (
        "import duckdb,sys;"
        f"c=duckdb.connect({path!r},read_only=True);"
        f"print(*c.execute({_SUMMARY_SQL!r}).fetchone())"
    )
    out = subprocess.run(  # noqa: S603
        [str(python), "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    rows, days, programs = (int(x) for x in out)
    return rows, days, programs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A real sync: tap-impact-clicks -> DuckDB through `meltano run`, against "
        "the built-in sandbox unless impact.com credentials are set in the environment.",
    )
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="the Meltano project to run in, made on the first run (default: the source "
        f"checkout's own; installed from a wheel, ./{DEFAULT_PROJECT})",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Install the Meltano plugins, run the sync, print the summary.

    Args:
        argv: Command-line arguments.
    """
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    meltano = meltano_executable()
    if args.project is None and source_checkout():
        root, install = PROJECT_ROOT, [meltano, "install"]
    else:
        root = make_project((args.project or Path(DEFAULT_PROJECT)).absolute())
        # Only the loader this run needs: the extractor is the installed tap.
        install = [meltano, "install", "--plugin-type=loader", "target-duckdb"]
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
    (root / "output").mkdir(exist_ok=True)
    warehouse = env.get("TARGET_DUCKDB_FILEPATH", WAREHOUSES[environment])
    try:
        _run(install, env, root)
        before = summary(warehouse, root)[0]
        _run(
            [meltano, f"--environment={environment}", "run", "tap-impact-clicks", "target-duckdb"],
            env,
            root,
        )
    finally:
        if sandbox is not None:
            sandbox.stop()
    rows, days, programs = summary(warehouse, root)
    exports = f" with {sandbox.count('ClickExport')} ClickExport call(s)" if sandbox else ""
    shown = warehouse if root == PROJECT_ROOT else _shown(root / warehouse)
    sys.stdout.write(
        f"This run added {rows - before} row(s){exports}; {shown} (table impact.clicks) "
        f"now holds {rows} rows, {days} days, {programs} programs.\n"
    )


if __name__ == "__main__":
    main()
