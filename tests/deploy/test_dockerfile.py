"""deploy/Dockerfile, checked without Docker (none here): its OS packages against the Makefile's and
against what the compiled engine links, the files it copies, its user and its entrypoint."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import edgeswarm
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest requires tomli before 3.11
    import tomli as tomllib

from tests.deploy.manifests import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"

# Each of the Makefile's OS_PACKAGES is in the build stage, the runtime stage, or here with the reason it
# is in neither. A package added to the Makefile fails test_every_makefile_package_has_a_place until
# it is placed.
NOT_IN_THE_IMAGE = {
    "python3-venv": "the base image's Python is the image's interpreter; no venv inside the image",
    "python3-dev": "the base image carries its own Python's headers",
    "libgtest-dev": "C++ tests (make test-cpp), not built in the image",
    "libbenchmark-dev": "C++ benchmarks (make bench), not built in the image",
    "clang-format": "make lint",
    "chromium": "the dashboard's browser tests",
}
# What the engine needs to compile (CMakeLists.txt: a C++ compiler, CMake, Eigen 3, xtensor).
BUILD_NEEDS = {"g++", "cmake", "make", "libeigen3-dev", "libxtensor-dev"}
# Packages python:3.11-slim-bookworm already has (apt itself depends on them).
IN_THE_BASE_IMAGE = {"libc6", "libstdc++6", "libgcc-s1"}


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _apt_packages(stage: list[tuple[str, str]]) -> set[str]:
    packages: set[str] = set()
    for instruction, arguments in stage:
        if instruction != "RUN":
            continue
        for command in re.split(r"&&|;", arguments):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                packages |= {w for w in words[words.index("install") + 1 :] if not w.startswith("-")}
    return packages


def _makefile_os_packages() -> set[str]:
    (line,) = re.findall(r"^OS_PACKAGES := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    return set(line.split())


def test_two_stages_on_the_same_python_3_11_slim_base():
    instructions = _instructions()
    (base,) = [a for i, a in instructions if i == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", base), base
    build, runtime = _stages()
    assert build[0][1] == "${PYTHON_IMAGE} AS build" and runtime[0][1] == "${PYTHON_IMAGE}"


def test_build_stage_installs_what_the_engine_compiles_with_from_the_makefile():
    build, _ = _stages()
    packages = _apt_packages(build)
    assert packages == BUILD_NEEDS
    assert packages <= _makefile_os_packages()


def test_runtime_stage_has_mosquitto_and_what_the_engine_links_nothing_to_compile_with():
    _, runtime = _stages()
    packages = _apt_packages(runtime)
    assert "mosquitto" in packages
    assert not packages & BUILD_NEEDS
    assert packages <= _makefile_os_packages() | _core_library_packages(), packages


def test_every_makefile_package_has_a_place():
    build, runtime = _stages()
    placed = _apt_packages(build) | _apt_packages(runtime) | NOT_IN_THE_IMAGE.keys()
    assert _makefile_os_packages() - placed == set()
    assert set(NOT_IN_THE_IMAGE) <= _makefile_os_packages()  # no stale reasons


def _owners(library: str) -> set[str]:
    """The Debian packages that ship `library` (by path; merged /usr: /lib and /usr/lib are one folder)."""
    twins = {library, f"/usr{library}", library.removeprefix("/usr")}
    listing = subprocess.run(["dpkg", "-S", Path(library).name], capture_output=True, text=True, check=False)
    owners = set()
    for line in listing.stdout.splitlines():
        packages, _, path = line.partition(": ")
        if path in twins:
            owners |= {package.split(":")[0] for package in packages.split(", ")}
    assert owners, f"{library}: no Debian package ships it ({listing.stderr.strip()})"
    return owners


def _core_library_packages() -> set[str]:
    """The Debian packages of the shared libraries the compiled engine (_core) links, via ldd and dpkg."""
    core = Path(edgeswarm._core.__file__)  # wherever the build put it (an editable install: site-packages)
    linked = subprocess.run(["ldd", str(core)], capture_output=True, text=True, check=True).stdout
    return {owner for library in re.findall(r"=> (/\S+)", linked) for owner in _owners(library)}


def test_the_runtime_stage_provides_every_library_the_engine_links():
    _, runtime = _stages()
    needed = _core_library_packages()
    assert "libgomp1" in needed  # OpenMP: the case the base image does not cover
    assert needed - IN_THE_BASE_IMAGE - _apt_packages(runtime) == set()


def test_copied_files_exist_and_a_local_build_of_the_engine_is_ignored():
    build, _ = _stages()
    sources = [shlex.split(a)[:-1] for i, a in build if i == "COPY"]
    assert sources, "the build stage copies nothing"
    for source in (s for group in sources for s in group):
        assert (ROOT / source).exists(), source
    copied = {s.rstrip("/") for group in sources for s in group}
    assert {"pyproject.toml", "CMakeLists.txt", "cpp", "python"} <= copied
    readme = re.search(r'^readme = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert readme is not None and readme.group(1) in copied  # the wheel's metadata reads it
    ignored = DOCKERIGNORE.read_text().split()
    assert "**/*.so" in ignored and ".venv" in ignored


def test_it_runs_edgeswarm_as_a_named_non_root_user():
    instructions = _instructions()
    (user,) = [a for i, a in instructions if i == "USER"]
    uid, gid = (int(part) for part in user.split(":"))
    assert uid >= 1000 and gid >= 1000
    (create,) = [a for i, a in instructions if i == "RUN" and "useradd" in a]
    assert f"--uid {uid}" in create and f"--gid {gid}" in create  # in /etc/passwd: the broker names it
    (entrypoint,) = [a for i, a in instructions if i == "ENTRYPOINT"]
    assert entrypoint == '["edgeswarm"]'
    scripts = re.search(r"^\[project\.scripts\]\n(.+)$", (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert scripts is not None and scripts.group(1).startswith("edgeswarm = ")


@pytest.mark.parametrize("name", ["PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "HOME", "MPLCONFIGDIR"])
def test_the_environment_suits_a_read_only_root(name):
    (env,) = [shlex.split(a) for i, a in _instructions() if i == "ENV"]
    values = dict(item.split("=", 1) for item in env)
    assert name in values
    if name in ("HOME", "MPLCONFIGDIR"):
        assert values[name].startswith("/tmp")  # the only writable folder of every pod


def _pip_extras() -> list[str]:
    """What the runtime stage pip-installs beside the wheel."""
    _, runtime = _stages()
    extras = []
    for instruction, arguments in runtime:
        for command in re.split(r"&&|;", arguments) if instruction == "RUN" else []:
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                extras += [w for w in words[2:] if not w.startswith("-") and not w.startswith("/wheels/")]
    return extras


def _imported_distributions() -> set[str]:
    """The distributions of the third-party modules anything in python/edgeswarm imports (lazily too)."""
    modules = set()
    for path in (ROOT / "python" / "edgeswarm").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | {"edgeswarm"}
    owners = metadata.packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    assert not missing, f"imported but not installed here: {missing}"
    return {canonicalize_name(owners[m][0]) for m in modules}


def _closure(requirements: list[str]) -> set[str]:
    """The distributions `requirements` install, with what they require in turn (markers evaluated)."""
    found: set[str] = set()
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found |= {name, key}
        for text in metadata.requires(requirement.name) or []:
            pending += [(Requirement(text), chosen) for chosen in ["", *requirement.extras]]
    return {name for name in found if "[" not in name}


def _declared(extra: str | None) -> list[Requirement]:
    """The package's requirements in pyproject.toml (not the installed metadata, which may be older): its
    dependencies, or one extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(text) for text in texts]


def _spec(requirement: Requirement) -> str:
    return f"{canonicalize_name(requirement.name)}{requirement.specifier}"


def test_the_image_installs_every_distribution_the_package_imports():
    installed = _closure([*(str(r) for r in _declared(None)), *_pip_extras()])
    assert _imported_distributions() - installed == set()
    # Each extra is a requirement of the dev extra, word for word, so the two cannot drift apart.
    dev = {_spec(r) for r in _declared("dev")}
    assert {_spec(Requirement(text)) for text in _pip_extras()} <= dev, _pip_extras()
