"""What the package declares agrees with what it is: meltano.yml's capabilities and settings
with the tap's, the one version with the installed metadata, the dependencies with the
imports, the Python versions across classifiers and CI, the lint tools' pins across the dev
extra and pre-commit, the workflows' actions pinned, and the quickstart's project file.

Offline and fast: the distributions themselves are built and tried by .ci/package.py.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import tap_impact_clicks
from tap_impact_clicks.quickstart import project_file
from tap_impact_clicks.tap import TapImpactClicks

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli comes with the dev extra's build, mypy and pytest
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tap_impact_clicks"
DISTRIBUTION = "tap-impact-clicks"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MELTANO = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
WORKFLOWS = ROOT / ".github" / "workflows"
#: A 3.X version in the classifiers.
PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


def _extractor() -> dict[str, t.Any]:
    (tap,) = [p for p in MELTANO["plugins"]["extractors"] if p["name"] == DISTRIBUTION]
    return t.cast("dict[str, t.Any]", tap)


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    """``tap-impact-clicks --about --format json`` from the installed script."""
    command = [str(Path(sys.executable).with_name("tap-impact-clicks")), "--about"]
    out = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, timeout=120, check=True
    )
    return t.cast("dict[str, t.Any]", json.loads(out.stdout))


# --- meltano.yml and the tap ---------------------------------------------------------------


def test_meltano_yml_lists_the_capabilities_the_tap_reports(about: dict[str, t.Any]) -> None:
    declared = _extractor()["capabilities"]
    assert len(declared) == len(set(declared)), "a capability listed twice"
    assert sorted(declared) == sorted(str(c) for c in TapImpactClicks.capabilities)
    assert sorted(declared) == sorted(about["capabilities"])


def _sdk_settings() -> set[str]:
    """The settings the SDK adds to the tap's own, for the tap's capabilities."""
    schema: dict[str, t.Any] = {"type": "object", "properties": {}}
    TapImpactClicks.append_builtin_config(schema)
    return set(schema["properties"])


def test_meltano_yml_declares_every_setting_about_lists(about: dict[str, t.Any]) -> None:
    """The tap's own settings and the SDK's (declared: Meltano ignores undeclared ones in the
    environment, and `meltano config set` would store them as text)."""
    declared = {setting["name"] for setting in _extractor()["settings"]}
    assert set(TapImpactClicks.config_jsonschema["properties"]) <= declared
    assert _sdk_settings() <= declared, "the SDK adds stream maps, flattening, batch... settings"
    assert declared == set(about["settings"]["properties"])


# --- one version ---------------------------------------------------------------------------


def test_the_version_is_written_once_and_read_from_the_installed_metadata(
    about: dict[str, t.Any],
) -> None:
    project = PYPROJECT["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["source"] == "vcs"
    installed = importlib.metadata.version(DISTRIBUTION)
    assert tap_impact_clicks.__version__ == installed == about["version"]
    assignments = [
        (path.relative_to(ROOT).as_posix(), node)
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
    ]
    assert {path for path, _ in assignments} == {"tap_impact_clicks/__init__.py"}
    literals = [n.value.value for _, n in assignments if isinstance(n.value, ast.Constant)]
    assert literals == ["0.0.0+unknown"], "no version literal but the not-installed fallback"


# --- dependencies ----------------------------------------------------------------------------


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported by the package that are neither stdlib nor the package."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "tap_impact_clicks":
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def _providers() -> dict[str, set[str]]:
    """The installed distributions that provide each top-level module.

    importlib.metadata.packages_distributions() as Python 3.11 has it (3.10's misses the
    packages of distributions without a top_level.txt, such as singer-sdk's): the declared
    top-level names, else the first parts of the paths in RECORD.
    """
    found: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        declared = (dist.read_text("top_level.txt") or "").split()
        record = dist.read_text("RECORD")
        paths = record.splitlines() if record else [str(f) for f in dist.files or []]
        tops = declared or {path.partition(",")[0].split("/")[0] for path in paths}
        for top in tops:
            if not top.endswith((".dist-info", ".data")) and top.partition(".")[0].isidentifier():
                name = canonicalize_name(dist.metadata["Name"])
                found.setdefault(top.partition(".")[0], set()).add(name)
    return found


def test_every_third_party_import_is_a_declared_dependency_and_nothing_else_is() -> None:
    providers = _providers()
    imported: dict[str, str] = {}  # distribution: what imports it
    for module, files in _third_party_imports().items():
        where = f"{module} (imported by {', '.join(sorted(files))})"
        assert len(providers.get(module, ())) == 1, f"{where}: not one installed distribution"
        (distribution,) = providers[module]
        imported[distribution] = where
    declared = {
        canonicalize_name(Requirement(r).name): Requirement(r)
        for r in PYPROJECT["project"]["dependencies"]
    }
    undeclared = [where for name, where in imported.items() if name not in declared]
    assert not undeclared, f"declare in pyproject.toml's dependencies: {undeclared}"
    unused = sorted(set(declared) - set(imported))
    assert not unused, f"declared in pyproject.toml's dependencies, never imported: {unused}"
    for name, requirement in declared.items():
        lows = [s for s in requirement.specifier if s.operator in {">=", "~="}]
        assert len(lows) == 1, f"{name}: one floor (>= or ~=), so .ci/package.py can try it"


# --- Python versions, tool pins, workflows ---------------------------------------------------


def test_the_classifiers_requires_python_and_ci_name_the_same_python_versions() -> None:
    classifiers = [
        m.group(1) for c in PYPROJECT["project"]["classifiers"] if (m := PYTHON_CLASSIFIER.match(c))
    ]
    ci = yaml.safe_load((WORKFLOWS / "ci.yml").read_text(encoding="utf-8"))
    matrix = ci["jobs"]["tests"]["strategy"]["matrix"]["python-version"]
    assert matrix == classifiers
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert all(v in requires for v in classifiers)
    lowest = min(classifiers, key=lambda v: tuple(map(int, v.split("."))))
    assert f"3.{int(lowest.split('.')[1]) - 1}" not in requires, "requires-python floor"
    assert f"py{lowest.replace('.', '')}" == PYPROJECT["tool"]["ruff"]["target-version"]
    assert lowest == PYPROJECT["tool"]["mypy"]["python_version"]


def _pinned(name: str) -> str:
    (requirement,) = [
        Requirement(r)
        for r in PYPROJECT["project"]["optional-dependencies"]["dev"]
        if canonicalize_name(Requirement(r).name) == name
    ]
    (spec,) = requirement.specifier
    assert spec.operator == "==", f"{name} is pinned exactly in the dev extra"
    return spec.version


def test_pre_commit_runs_the_ruff_and_check_jsonschema_that_the_dev_extra_pins() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    schemas = repos["https://github.com/python-jsonschema/check-jsonschema"]
    assert ruff["rev"] == f"v{_pinned('ruff')}", "bump ruff's pin and its rev together"
    assert schemas["rev"] == _pinned("check-jsonschema"), "bump both together"
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff-check", "ruff-format"]
    hooks = {hook["id"] for hook in schemas["hooks"]}
    assert {"check-meltano", "check-github-workflows", "check-dependabot"} <= hooks


def _steps(workflow: dict[str, t.Any]) -> list[tuple[str, dict[str, t.Any]]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"]]


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_workflow_actions_are_pinned_by_commit_and_checkouts_keep_no_credentials(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    uses = re.findall(r"uses: (\S+)(.*)$", text, re.MULTILINE)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+(\.\d+)*", comment), f"{action}: a version comment"
    for _job, step in _steps(yaml.safe_load(text)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_release_publishes_with_trusted_publishing_and_least_permissions() -> None:
    release = yaml.safe_load((WORKFLOWS / "release.yml").read_text(encoding="utf-8"))
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as True
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert jobs["publish"]["needs"] == "build"
    publish = [s for _, s in _steps(release) if "gh-action-pypi-publish" in s.get("uses", "")]
    assert len(publish) == 1
    assert not {"password", "user"} & set(publish[0].get("with", {})), "no stored token"
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text(encoding="utf-8")


# --- the quickstart's project, from a wheel ------------------------------------------------


def test_the_quickstart_project_is_meltano_yml_with_the_installed_tap_as_extractor() -> None:
    template = (ROOT / "meltano.yml").read_text(encoding="utf-8")
    executable = "/opt/some venv/bin/tap-impact-clicks"
    made = project_file(template, executable)
    project = yaml.safe_load(made)
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == DISTRIBUTION]
    assert "pip_url" not in tap, "Meltano runs a plugin without pip_url from its executable"
    assert tap["executable"] == executable
    (duckdb,) = [p for p in project["plugins"]["loaders"] if p["name"] == "target-duckdb"]
    assert "duckdb==1.2.2" in duckdb["pip_url"].split()
    assert "duckdb >= 1.3 makes target-duckdb 0.8 drop the first row" in made, "its comment"
    # Everything else is the repository's project.
    original = yaml.safe_load(template)
    for plugin in (*original["plugins"]["extractors"], *project["plugins"]["extractors"]):
        if plugin["name"] == DISTRIBUTION:
            plugin.pop("pip_url", None)
            plugin.pop("executable")
    assert project == original


def test_the_quickstart_refuses_a_meltano_yml_it_cannot_point_at_the_installed_tap() -> None:
    template = (ROOT / "meltano.yml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="pip_url"):
        project_file(template.replace("pip_url: -e .", "pip_url: tap-impact-clicks"), "/x")


def test_the_license_is_the_apache_2_text_the_metadata_names() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    lines = [line.strip() for line in (ROOT / "LICENSE").read_text(encoding="utf-8").splitlines()]
    assert lines[1:3] == ["Apache License", "Version 2.0, January 2004"]
    assert "END OF TERMS AND CONDITIONS" in lines
