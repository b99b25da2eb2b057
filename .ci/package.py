"""Packaging check: build the package as a user would, check what was built, use it installed.

Run it alone after the README's install: ``.venv/bin/python .ci/package.py`` (it needs the dev
extra's build and twine, git, and the package registry). ``.ci/run`` runs it after the tests,
CI on each Python, and the release workflow with ``--dist dist`` (what it publishes).

1. ``python -m build``: the sdist, then the wheel from the sdist; ``twine check --strict``.
2. The wheel is ``py3-none-any`` and holds the package (with its meltano.yml), the LICENSE and
   the console scripts, nothing else; the sdist holds the package and what builds it, and the
   test tree complete or not at all; both carry pyproject.toml's metadata.
3. The build-system floors (pyproject.toml's ``>=``, read as ``==``) build the same wheel.
4. A fresh venv with the wheel: ``pip check``, ``tap-impact-clicks --about``, a short sync
   against ``tap-impact-clicks-sandbox``, then ``tap-impact-clicks-quickstart``: one line and
   exit 2 without Meltano, rows loaded into DuckDB with it.
5. A fresh venv with the wheel and every runtime dependency at its floor: ``--about`` and the
   sandbox sync again.

3 and 5 run in a thread beside 4 (mostly waiting on pip and the package registry).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import email.parser
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import typing as t
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, which build needs there
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tap_impact_clicks"
#: The Meltano project the wheel ships for the quickstart (hatch_build.py puts it there).
PROJECT_TEMPLATE = f"{PACKAGE}/project/meltano.yml"
#: What the sdist holds besides PKG-INFO and the package.
SDIST_FILES = {
    "pyproject.toml",
    "hatch_build.py",
    "meltano.yml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    ".gitignore",
}
#: Compiled code or its sources: a pure wheel has none.
BINARY = (".so", ".pyd", ".dylib", ".dll", ".c", ".h", ".pyx")
TIMEOUT = 600
#: The exit code of a usage error (the quickstart without Meltano).
EXIT_INPUT = 2


class CheckError(Exception):
    """A packaging check failed."""


_BEGAN = time.monotonic()


def say(message: str) -> None:
    """One progress line, with the seconds since the start."""
    sys.stdout.write(f"package: [{time.monotonic() - _BEGAN:3.0f} s] {message}\n")
    sys.stdout.flush()


def check(condition: object, message: str) -> None:
    """Fail the run with the message unless the condition holds."""
    if not condition:
        raise CheckError(message)


def run(
    command: list[str | Path], *, cwd: Path = ROOT, ok: bool = True, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a command, its output captured; by default it must exit 0."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    result = subprocess.run(  # noqa: S603
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if ok and result.returncode != 0:
        tail = (result.stdout[-2000:] + result.stderr[-4000:]).strip()
        msg = f"{' '.join(map(str, command[:3]))} ... exited {result.returncode}:\n{tail}"
        raise CheckError(msg)
    return result


def pyproject() -> dict[str, t.Any]:
    """pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        data: dict[str, t.Any] = tomllib.load(file)
    return data


def tracked(directory: str) -> set[str]:
    """The files git tracks under a directory (paths relative to the repository)."""
    out = run(["git", "ls-files", "-z", "--", directory]).stdout
    return {path for path in out.split("\0") if path}


def floor(requirement: str) -> str:
    """A requirement pinned to its lowest allowed version (``>=X`` or ``~=X`` read as ``==X``)."""
    req = Requirement(requirement)
    lows = [spec.version for spec in req.specifier if spec.operator in {">=", "~=", "=="}]
    check(len(lows) == 1, f"{requirement}: no single floor (>=, ~= or ==) to pin")
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}=={lows[0]}"


# --- what was built ----------------------------------------------------------------------


def check_wheel(wheel: Path, meta: dict[str, t.Any]) -> str:
    """The wheel's tag, files and metadata; returns its version."""
    name, version, _build, tags = parse_wheel_filename(wheel.name)
    check(name == canonicalize_name(meta["name"]), f"{wheel.name}: not {meta['name']}")
    check({str(tag) for tag in tags} == {"py3-none-any"}, f"{wheel.name}: not py3-none-any")
    dist_info = f"{PACKAGE}-{version}.dist-info/"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        read = archive.read
        wheel_file = read(dist_info + "WHEEL").decode()
        metadata = email.parser.Parser().parsestr(read(dist_info + "METADATA").decode())
        entry_points = read(dist_info + "entry_points.txt").decode()
        check(
            read(PROJECT_TEMPLATE) == (ROOT / "meltano.yml").read_bytes(),
            f"{PROJECT_TEMPLATE} differs from meltano.yml",
        )
        check(
            read(dist_info + "licenses/LICENSE") == (ROOT / "LICENSE").read_bytes(),
            "the wheel's LICENSE differs from the repository's",
        )
    check("Root-Is-Purelib: true" in wheel_file, "WHEEL: not purelib")
    check(re.findall(r"^Tag: (.+)$", wheel_file, re.MULTILINE) == ["py3-none-any"], "WHEEL tags")
    outside = sorted(n for n in names if not n.startswith((f"{PACKAGE}/", dist_info)))
    check(not outside, f"wheel: files outside the package: {outside}")
    binaries = sorted(n for n in names if n.endswith(BINARY))
    check(not binaries, f"wheel: compiled code in a pure wheel: {binaries}")
    sources = {p for p in tracked(PACKAGE) if p.endswith(".py")}
    check(sources <= names, f"wheel: missing {sorted(sources - names)}")
    stray = sorted(n for n in names if n.endswith(".py") and n not in sources)
    check(not stray, f"wheel: modules git does not track: {stray}")
    check(PROJECT_TEMPLATE in names, f"wheel: no {PROJECT_TEMPLATE}")
    scripts = set(
        re.findall(r"^([\w-]+) = ", entry_points.split("[console_scripts]")[1], re.MULTILINE)
    )
    check(scripts == set(meta["scripts"]), f"wheel: console scripts {sorted(scripts)}")
    check_metadata(metadata, meta, version=str(version), where="wheel")
    return str(version)


def check_metadata(
    metadata: email.message.Message, meta: dict[str, t.Any], *, version: str, where: str
) -> None:
    """Core metadata as pyproject.toml says (PEP 639 license fields included)."""
    check(metadata["Name"] == meta["name"], f"{where}: Name {metadata['Name']}")
    check(metadata["Version"] == version, f"{where}: Version {metadata['Version']}")
    check(metadata["License-Expression"] == meta["license"], f"{where}: License-Expression")
    check(metadata.get_all("License-File") == meta["license-files"], f"{where}: License-File")
    check(metadata["Requires-Python"] == meta["requires-python"], f"{where}: Requires-Python")
    runtime = {
        str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r
    }
    declared = {str(Requirement(r)) for r in meta["dependencies"]}
    check(runtime == declared, f"{where}: Requires-Dist {sorted(runtime)} != {sorted(declared)}")


def check_sdist(sdist: Path, meta: dict[str, t.Any], version: str) -> str:
    """The sdist's files: the package and what builds it; the test tree complete or none."""
    name, sdist_version = parse_sdist_filename(sdist.name)
    check(name == canonicalize_name(meta["name"]), f"{sdist.name}: not {meta['name']}")
    check(str(sdist_version) == version, f"sdist {sdist_version} != wheel {version}")
    top = f"{sdist.name.removesuffix('.tar.gz')}/"
    with tarfile.open(sdist) as archive:
        members = {m.name.removeprefix(top): m for m in archive.getmembers() if m.isfile()}
        pkg_info = archive.extractfile(top + "PKG-INFO")
        if pkg_info is None:
            msg = "sdist: no PKG-INFO"
            raise CheckError(msg)
        metadata = email.parser.Parser().parsestr(pkg_info.read().decode())
    names = set(members)
    check(all(not n.startswith("/") and ".." not in n.split("/") for n in names), "sdist paths")
    sources = {p for p in tracked(PACKAGE) if p.endswith(".py")}
    expected = sources | SDIST_FILES | {"PKG-INFO"}
    check(expected <= names, f"sdist: missing {sorted(expected - names)}")
    tests = {n for n in names if n.startswith("tests/")}
    complete = tracked("tests")
    check(tests in (set(), complete), f"sdist: {len(tests)} of the {len(complete)} test files")
    others = sorted(names - expected - tests)
    check(not others, f"sdist: unexpected files {others}")
    check(not [n for n in names if n.endswith(BINARY)], "sdist: compiled code")
    check_metadata(metadata, meta, version=version, where="sdist")
    return "the test tree complete" if tests else "no tests"


# --- what installs -----------------------------------------------------------------------


def make_venv(base_python: str, path: Path, *requirements: str | Path) -> Path:
    """A fresh venv with the requirements; returns its bin directory."""
    run([base_python, "-m", "venv", path])
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    run([bin_dir / "python", "-m", "pip", "install", "-q", "--no-compile", *requirements])
    run([bin_dir / "python", "-m", "pip", "check"])
    return bin_dir


def about(bin_dir: Path, version: str, work: Path) -> list[str]:
    """``tap-impact-clicks --about`` from the installed script; returns its capabilities."""
    info = json.loads(
        run([bin_dir / "tap-impact-clicks", "--about", "--format", "json"], cwd=work).stdout
    )
    check(info["version"] == version, f"--about says version {info['version']}, not {version}")
    installed = run(
        [
            bin_dir / "python",
            "-c",
            "import tap_impact_clicks as t; print(t.__version__, t.__file__)",
        ],
        cwd=work,
    ).stdout.split()
    check(installed[0] == version, f"__version__ is {installed[0]}, not {version}")
    check(str(ROOT) not in installed[1], f"imported from the checkout: {installed[1]}")
    return list(info["capabilities"])


def _lines(stream: t.IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def _next_line(lines: queue.Queue[str], deadline: float) -> str | None:
    try:
        return lines.get(timeout=max(0.1, deadline - time.monotonic()))
    except queue.Empty:
        return None


def _banner(lines: queue.Queue[str]) -> list[str]:
    """The sandbox's banner up to its credentials: the URL on its first line, then them."""
    banner: list[str] = []
    deadline = time.monotonic() + 60
    while not re.search(r"auth token:\s*\S", "".join(banner)):
        line = _next_line(lines, deadline)
        if line is None:
            msg = f"the sandbox printed no banner in 60 s: {banner}"
            raise CheckError(msg)
        banner.append(line)
    return banner


def sandbox_sync(bin_dir: Path, work: Path) -> int:
    """A short sync of the installed tap against the installed sandbox; returns its records."""
    sandbox = subprocess.Popen(  # noqa: S603
        [bin_dir / "tap-impact-clicks-sandbox", "--port", "0", "--latency", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=work,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(sandbox.stdout, lines), daemon=True).start()
        banner = _banner(lines)
        url = banner[0].strip()
        check(url.startswith("http://127.0.0.1:"), f"the sandbox's first line: {url!r}")
        account = re.search(r"account SID:\s*(\S+)", "".join(banner))
        token = re.search(r"auth token:\s*(\S+)", "".join(banner))
        if account is None or token is None:
            msg = f"the sandbox's banner names no credentials: {banner}"
            raise CheckError(msg)
        start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)
        config = {
            "account_sid": account.group(1),
            "auth_token": token.group(1),
            "api_url": url,
            "start_date": start.isoformat(),
            "job_ledger": "off",
            "job_poll_interval": 0.2,
        }
        (work / "cfg.json").write_text(json.dumps(config))
        out = run([bin_dir / "tap-impact-clicks", "--config", "cfg.json"], cwd=work, timeout=120)
        types = [json.loads(line)["type"] for line in out.stdout.splitlines() if line.strip()]
        records = types.count("RECORD")
        check(records > 0, f"the sync wrote no RECORD ({len(types)} messages)")
        check("SCHEMA" in types and "STATE" in types, "the sync wrote no SCHEMA or no STATE")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        try:
            code = sandbox.wait(15)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
            msg = "the sandbox did not stop on SIGTERM"
            raise CheckError(msg) from None
    check(code == 0, f"the sandbox exited {code} on SIGTERM")
    return records


def quickstart(bin_dir: Path, work: Path, meltano: str) -> str:
    """``tap-impact-clicks-quickstart`` from the wheel: without Meltano, then with it."""
    command: list[str | Path] = [bin_dir / "tap-impact-clicks-quickstart"]
    missing = run(command, cwd=work, ok=False)
    lines = missing.stderr.strip().splitlines()
    check(
        missing.returncode == EXIT_INPUT and len(lines) == 1 and "pip install meltano" in lines[0],
        f"quickstart without meltano: exit {missing.returncode}, {missing.stderr!r}",
    )
    run([bin_dir / "python", "-m", "pip", "install", "-q", "--no-compile", meltano])
    done = run(command, cwd=work)
    added = re.search(r"^This run added (\d+) row\(s\).*$", done.stdout, re.MULTILINE)
    if added is None or int(added.group(1)) == 0:
        msg = f"quickstart loaded nothing:\n{done.stdout}"
        raise CheckError(msg)
    check((work / "tap-impact-clicks-quickstart" / "meltano.yml").is_file(), "no project made")
    return added.group(0)


# --- the run -----------------------------------------------------------------------------


def build(dist: Path, meta: dict[str, t.Any]) -> tuple[Path, Path, str]:
    """Steps 1 and 2: the sdist and the wheel, built and checked; returns them and the version."""
    check(not dist.exists() or not any(dist.iterdir()), f"{dist} is not empty")
    say("building the sdist, then the wheel from it (python -m build)")
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT])
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist])
    say(f"twine check --strict: PASSED ({wheel.name}, {sdist.name})")
    version = check_wheel(wheel, meta)
    tests = check_sdist(sdist, meta, version)
    say(f"wheel: py3-none-any, the package, its meltano.yml and LICENSE; sdist: {tests}")
    return sdist, wheel, version


def at_the_floors(python: str, work: Path, sdist: Path, wheel: Path, version: str) -> None:
    """Steps 3 and 5: the build-system floors build the wheel; the dependency floors run it."""
    meta = pyproject()
    floors = [floor(r) for r in meta["build-system"]["requires"]]
    bin_dir = make_venv(python, work / "build-floors", *floors)
    pip_wheel = ["pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--wheel-dir"]
    run([bin_dir / "python", "-m", *pip_wheel, work / "floors", sdist])
    (floor_wheel,) = (work / "floors").glob("*.whl")
    check(check_wheel(floor_wheel, meta["project"]) == version, "the floors built another version")
    with zipfile.ZipFile(wheel) as one, zipfile.ZipFile(floor_wheel) as other:
        same = set(one.namelist()) == set(other.namelist())
    check(same, "the build-system floors build a wheel with other files")
    say(f"the build-system floors ({', '.join(floors)}) build the same wheel")

    pins = [floor(r) for r in meta["project"]["dependencies"]]
    bin_dir = make_venv(python, work / "floors-venv", wheel, *pins)
    (work / "floors-run").mkdir()
    about(bin_dir, version, work / "floors-run")
    records = sandbox_sync(bin_dir, work / "floors-run")
    say(f"dependency floors ({', '.join(pins)}): --about and a sandbox sync ({records} records)")


def installed(python: str, work: Path, wheel: Path, version: str) -> None:
    """Step 4: the wheel alone in a fresh venv, its console scripts used."""
    bin_dir = make_venv(python, work / "venv", wheel)
    (work / "run").mkdir()
    capabilities = about(bin_dir, version, work / "run")
    records = sandbox_sync(bin_dir, work / "run")
    say(
        f"fresh venv: --about ({len(capabilities)} capabilities, version {version}); "
        f"a sandbox sync wrote {records} RECORD messages"
    )
    meltano = next(
        r
        for r in pyproject()["project"]["optional-dependencies"]["dev"]
        if canonicalize_name(Requirement(r).name) == "meltano"
    )
    (work / "quickstart").mkdir()
    say(f"quickstart from the wheel: {quickstart(bin_dir, work / 'quickstart', meltano)}")


def main() -> None:
    """Build, check, install, use: the floors (3, 5) in a thread beside the fresh venv (4)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python",
        default=shutil.which("python3") or sys.executable,
        help="the Python of the fresh venvs (default: python3)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--dist",
        type=Path,
        metavar="DIR",
        help="build into DIR (new or empty) and leave the checked sdist and wheel there "
        "(the release workflow publishes them)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tap-impact-clicks-package-"))
    try:
        dist = args.dist.absolute() if args.dist else work / "dist"
        sdist, wheel, version = build(dist, pyproject()["project"])
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            floors = pool.submit(at_the_floors, args.python, work, sdist, wheel, version)
            installed(args.python, work, wheel, version)
            floors.result()
    except CheckError as exc:
        say(f"FAILED: {exc}")
        raise SystemExit(1) from None
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say("all packaging checks passed")


if __name__ == "__main__":
    main()
