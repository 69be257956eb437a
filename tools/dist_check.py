"""Distribution check: build every workspace wheel the way PyPI would see it.

Run from anywhere inside the repository::

    uv run python tools/dist_check.py [--python PATH] [--keep]

Steps (DESIGN.md section 2):

1. ``uv build --all-packages --no-sources --wheel`` into a temporary directory, so
   sibling dependencies are the published ranges, not workspace sources.
2. Static checks on each wheel: no ``ferrule/__init__.py`` (or any other file directly
   in ``ferrule/``: the namespace is shared by every distribution); no top-level
   package other than ``ferrule`` (an app wheel may also ship its own ``src/``
   packages); a ``py.typed`` in every ``ferrule/<sub>/`` package; sibling requirements
   are ranges with an upper bound, never exact pins or direct references. Every
   workspace member must have produced a wheel and have its ``{ workspace = true }``
   line in the root ``[tool.uv.sources]``.
3. A fresh venv, all wheels installed *together* by pip (dependencies from PyPI);
   then, in that venv: every built distribution is installed at the built version,
   every ``ferrule.*`` package (and app package) in the wheels imports from the venv's
   site-packages, and ``ferrule --help`` and ``ferrule plugins`` run cleanly and list
   every ``ferrule.plugins`` entry point the wheels declare.

Exit status 0 when everything passes; otherwise 1, after a message naming the wheel
and the problem. Temporary directories are removed unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "ferrule"
PLUGIN_GROUP = "ferrule.plugins"

BUILD_TIMEOUT = 600
VENV_TIMEOUT = 180
PIP_TIMEOUT = 900
RUN_TIMEOUT = 180

# Environment variables that would let the check see something other than the venv.
_SCRUB_ENV = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "CONDA_PREFIX",
    "FERRULE_DISABLE_PLUGINS",
    "FERRULE_APP",
)

# Runs inside the fresh venv (``python -I``): import each module, report where from.
_IMPORT_PROBE = r"""
import importlib, importlib.metadata as md, json, os, sys, sysconfig, traceback
names, dists = json.loads(sys.argv[1]), json.loads(sys.argv[2])
site = os.path.realpath(sysconfig.get_paths()["purelib"])
out = {"python": sys.version.split()[0], "site": site, "modules": {}, "dists": {}}
for name in names:
    try:
        mod = importlib.import_module(name)
    except BaseException:
        out["modules"][name] = {"error": traceback.format_exc(limit=-8)}
        continue
    paths = [getattr(mod, "__file__", None) or "", *list(getattr(mod, "__path__", []))]
    paths = [os.path.realpath(p) for p in paths if p]
    outside = [p for p in paths if not p.startswith(site + os.sep)]
    out["modules"][name] = {"outside": outside}
for dist in dists:
    try:
        out["dists"][dist] = md.version(dist)
    except md.PackageNotFoundError:
        out["dists"][dist] = None
print(json.dumps(out))
"""


class CheckError(Exception):
    """A failed check; ``subject`` names the wheel (or step) at fault."""

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject = subject
        self.problem = problem


@dataclass
class Member:
    path: Path
    dist: str  # normalized distribution name
    is_app: bool


@dataclass
class Wheel:
    path: Path
    dist: str  # normalized distribution name
    version: str
    member: Member | None = None
    files: list[str] = field(default_factory=list)
    top_level: set[str] = field(default_factory=set)
    packages: list[str] = field(default_factory=list)  # importable packages (dotted)
    requires: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def log(message: str) -> None:
    print(f"dist-check: {message}", flush=True)


def run(
    cmd: list[str],
    *,
    subject: str,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; raise :class:`CheckError` with its output on failure or timeout."""
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckError(subject, f"`{' '.join(cmd)}` timed out after {timeout:.0f}s") from exc
    except OSError as exc:
        raise CheckError(subject, f"`{' '.join(cmd)}` could not start: {exc}") from exc
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise CheckError(
            subject,
            f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{indent(output)}",
        )
    return proc


def indent(text: str, prefix: str = "    ") -> str:
    lines = text.splitlines() or ["(no output)"]
    if len(lines) > 60:
        lines = [*lines[:10], f"... ({len(lines) - 50} lines omitted) ...", *lines[-40:]]
    return "\n".join(prefix + line for line in lines)


# -- workspace --------------------------------------------------------------------------


def workspace_members() -> list[Member]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    workspace = root.get("tool", {}).get("uv", {}).get("workspace", {})
    patterns: list[str] = workspace.get("members", [])
    excludes: list[str] = workspace.get("exclude", [])
    members: list[Member] = []
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            rel = path.relative_to(ROOT).as_posix()
            if any(fnmatch.fnmatch(rel, ex) for ex in excludes):
                continue
            pyproject = path / "pyproject.toml"
            if not pyproject.is_file():
                continue
            data = tomllib.loads(pyproject.read_text("utf-8"))
            name = data.get("project", {}).get("name")
            if not name:
                raise CheckError(rel, "pyproject.toml has no [project] name")
            members.append(Member(path, normalize(name), rel.startswith("apps/")))
    return members


def check_sources(members: list[Member]) -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    sources = {
        normalize(k): v for k, v in root.get("tool", {}).get("uv", {}).get("sources", {}).items()
    }
    for member in members:
        source = sources.get(member.dist)
        if not (isinstance(source, dict) and source.get("workspace") is True):
            raise CheckError(
                "pyproject.toml",
                f"[tool.uv.sources] lacks `{member.dist} = {{ workspace = true }}` "
                f"for the member {member.path.relative_to(ROOT).as_posix()}",
            )


# -- build and inspect ------------------------------------------------------------------


def uv_executable() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise CheckError("uv build", "uv is not on PATH (pip install uv)")
    return uv


def build_wheels(out_dir: Path) -> list[Path]:
    cmd = [
        uv_executable(),
        "build",
        "--all-packages",
        "--no-sources",
        "--wheel",
        "--no-create-gitignore",
        "-o",
        str(out_dir),
    ]
    run(cmd, subject="uv build", timeout=BUILD_TIMEOUT, cwd=ROOT)
    wheels = sorted(out_dir.glob("*.whl"))
    if not wheels:
        raise CheckError("uv build", f"no wheel was written to {out_dir}")
    return wheels


def inspect_wheel(path: Path, members: dict[str, Member]) -> Wheel:
    with zipfile.ZipFile(path) as zf:
        files = [n for n in zf.namelist() if not n.endswith("/")]
        dist_info = sorted(
            {n.split("/", 1)[0] for n in files if n.split("/", 1)[0].endswith(".dist-info")}
        )
        if len(dist_info) != 1:
            raise CheckError(path.name, f"expected one .dist-info directory, found {dist_info}")
        meta = HeaderParser().parsestr(zf.read(f"{dist_info[0]}/METADATA").decode("utf-8"))
        entry_points = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        entry_points.optionxform = str  # type: ignore[assignment,method-assign]
        ep_file = f"{dist_info[0]}/entry_points.txt"
        if ep_file in files:
            entry_points.read_string(zf.read(ep_file).decode("utf-8"))
    dist = normalize(meta["Name"] or "")
    wheel = Wheel(path=path, dist=dist, version=meta["Version"] or "", member=members.get(dist))
    wheel.requires = meta.get_all("Requires-Dist") or []
    if entry_points.has_section(PLUGIN_GROUP):
        wheel.plugins = list(entry_points[PLUGIN_GROUP])
    if entry_points.has_section("console_scripts"):
        wheel.scripts = list(entry_points["console_scripts"])

    for name in files:
        parts = PurePosixPath(name).parts
        if parts[0].endswith(".dist-info"):
            continue
        if parts[0].endswith(".data"):
            if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                continue  # scripts/headers/data: not importable
            parts = parts[2:]
        wheel.files.append("/".join(parts))
    wheel.top_level = {f.split("/", 1)[0].removesuffix(".py") for f in wheel.files}
    wheel.packages = sorted(
        ".".join(PurePosixPath(f).parts[:-1]) for f in wheel.files if f.endswith("/__init__.py")
    )
    return wheel


_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def static_checks(wheel: Wheel, member_dists: set[str]) -> list[str]:
    """Return the problems found in ``wheel`` (empty when it is fine)."""
    problems: list[str] = []
    if wheel.member is None:
        problems.append(f"distribution {wheel.dist!r} is not a workspace member")
    ns_prefix = NAMESPACE + "/"

    # The namespace directory must hold nothing but sub-packages.
    if f"{NAMESPACE}/__init__.py" in wheel.files:
        problems.append(
            f"ships {NAMESPACE}/__init__.py: it turns the PEP 420 namespace into a regular "
            f"package and hides every other {NAMESPACE}.* distribution; delete "
            f"src/{NAMESPACE}/__init__.py"
        )
    stray = sorted(
        f
        for f in wheel.files
        if f.startswith(ns_prefix) and f.count("/") == 1 and f != f"{NAMESPACE}/__init__.py"
    )
    if stray:
        problems.append(
            f"ships files directly in {NAMESPACE}/ (shared by every distribution, "
            f"they would collide): {', '.join(stray)}"
        )
    if NAMESPACE in wheel.top_level and f"{NAMESPACE}.py" in wheel.files:
        problems.append(f"ships a top-level module {NAMESPACE}.py")

    # Top-level packages: only the namespace, or an app's own packages.
    allowed = {NAMESPACE}
    if wheel.member is not None and wheel.member.is_app:
        src = wheel.member.path / "src"
        if src.is_dir():
            allowed |= {p.name for p in src.iterdir() if p.is_dir() and p.name.isidentifier()}
    extra = sorted(wheel.top_level - allowed)
    if extra:
        problems.append(
            f"ships top-level package(s) {', '.join(extra)} "
            f"(allowed: {', '.join(sorted(allowed))});"
            f' check [tool.hatch.build.targets.wheel] packages = ["src/{NAMESPACE}"]'
        )

    # PEP 561 markers: one per ferrule/<sub>/ package.
    subs = sorted(
        {f.split("/")[1] for f in wheel.files if f.startswith(ns_prefix) and f.count("/") >= 2}
    )
    for sub in subs:
        if f"{NAMESPACE}/{sub}/py.typed" not in wheel.files:
            problems.append(
                f"{NAMESPACE}/{sub}/ has no py.typed (add src/{NAMESPACE}/{sub}/py.typed)"
            )
        if f"{NAMESPACE}/{sub}/__init__.py" not in wheel.files:
            problems.append(
                f"{NAMESPACE}/{sub}/ has no __init__.py (sub-packages are regular packages)"
            )

    # Sibling requirements: compatible ranges, never pins or direct references.
    for req in wheel.requires:
        spec = req.split(";", 1)[0]
        match = _REQ.match(spec)
        if not match or normalize(match.group(1)) not in member_dists:
            continue
        specifier = match.group(3).strip().strip("()")
        if "@" in specifier:
            problems.append(f"requires {req!r}: a direct reference (was --no-sources honoured?)")
        elif "==" in specifier:
            problems.append(f"requires {req!r}: an exact pin; use a range like >=0.1,<0.2")
        elif not re.search(r"(<(?!=)|<=|~=)", specifier):
            problems.append(f"requires {req!r}: no upper bound; use a range like >=0.1,<0.2")
    return problems


# -- install and smoke-test -------------------------------------------------------------


def clean_env(extra_path: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("NO_COLOR", "1")
    if extra_path is not None:
        env["PATH"] = f"{extra_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def install_and_smoke(wheels: list[Wheel], work: Path, python: str) -> list[CheckError]:
    """Install every wheel into one fresh venv and smoke-test it; return the failures."""
    venv = work / "venv"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    vpython = bindir / ("python.exe" if os.name == "nt" else "python")
    env = clean_env(bindir)

    started = time.monotonic()
    run([python, "-m", "venv", str(venv)], subject="venv", timeout=VENV_TIMEOUT, cwd=work, env=env)
    cmd = [str(vpython), "-m", "pip", "install", "--progress-bar", "off"]
    cmd += [str(w.path) for w in wheels]
    proc = run(
        cmd, subject="pip install (all wheels together)", timeout=PIP_TIMEOUT, cwd=work, env=env
    )
    installed = [
        line for line in proc.stdout.splitlines() if line.startswith("Successfully installed")
    ]
    log(f"pip installed all {len(wheels)} wheels together ({time.monotonic() - started:.1f}s)")
    if installed:
        log(f"  {installed[-1]}")

    # Import every package the wheels ship, from the venv and nowhere else.
    owner = {pkg: w for w in wheels for pkg in w.packages}
    proc = run(
        [
            str(vpython),
            "-I",
            "-c",
            _IMPORT_PROBE,
            json.dumps(sorted(owner)),
            json.dumps(sorted(w.dist for w in wheels)),
        ],
        subject="import probe",
        timeout=RUN_TIMEOUT,
        cwd=work,
        env=env,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"venv python {report['python']}, site-packages {report['site']}")
    errors: list[CheckError] = []
    for wheel in wheels:
        got = report["dists"].get(wheel.dist)
        if got != wheel.version:
            errors.append(
                CheckError(
                    wheel.name, f"installed {wheel.dist} is {got!r}, not the built {wheel.version}"
                )
            )
    for name in sorted(owner):
        result = report["modules"][name]
        if "error" in result:
            errors.append(
                CheckError(owner[name].name, f"`import {name}` failed:\n{indent(result['error'])}")
            )
        elif result["outside"]:
            errors.append(
                CheckError(
                    owner[name].name,
                    f"`import {name}` resolved outside the venv: {', '.join(result['outside'])}",
                )
            )
        else:
            log(f"  import {name}: ok")

    # The CLI, with every plugin the wheels declare.
    declared = {p: w for w in wheels for p in w.plugins}
    if any("ferrule" in w.scripts for w in wheels):
        for args in (["--help"], ["plugins"]):
            label = f"ferrule {' '.join(args)}"
            ferrule_owner = next(w for w in wheels if "ferrule" in w.scripts)
            try:
                proc = run(
                    [str(bindir / "ferrule"), *args],
                    subject=ferrule_owner.name,
                    timeout=RUN_TIMEOUT,
                    cwd=work,
                    env=env,
                )
            except CheckError as exc:
                errors.append(exc)
                continue
            bad = [ln for ln in proc.stderr.splitlines() if "plugin" in ln.lower()]
            if args == ["plugins"]:
                bad += [ln for ln in proc.stdout.splitlines() if " error: " in ln]
            if bad:
                # Blame the wheel that declares the failing plugin when we can tell.
                culprits = {
                    w.name for ln in bad for p, w in declared.items() if re.search(rf"\b{p}\b", ln)
                } or {ferrule_owner.name}
                for culprit in sorted(culprits):
                    errors.append(
                        CheckError(
                            culprit,
                            f"`{label}` reported a problem:\n{indent(chr(10).join(bad))}",
                        )
                    )
                continue
            if args == ["plugins"]:
                listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
                for plugin, wheel in sorted(declared.items()):
                    if plugin not in listed:
                        errors.append(
                            CheckError(
                                wheel.name,
                                f"plugin {plugin!r} is not listed by "
                                f"`ferrule plugins`:\n{indent(proc.stdout)}",
                            )
                        )
                summary = (proc.stdout.strip().splitlines() or [""])[0]
                log(f"  {label}: ok ({len(declared)} plugin(s) declared; {summary})")
            else:
                log(f"  {label}: ok")
    else:
        errors.append(CheckError("ferrule-core", "no wheel declares the `ferrule` console script"))
    return errors


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for the install venv (default: this one)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ferrule-dist-check-"))
    failures: list[CheckError] = []
    try:
        members = workspace_members()
        check_sources(members)
        by_dist = {m.dist: m for m in members}
        log(f"workspace members: {', '.join(sorted(by_dist))}")

        t0 = time.monotonic()
        paths = build_wheels(work / "dist")
        wheels = [inspect_wheel(p, by_dist) for p in paths]
        log(f"built {len(wheels)} wheel(s) in {time.monotonic() - t0:.1f}s")

        built = {w.dist for w in wheels}
        for member in members:
            if member.dist not in built:
                failures.append(
                    CheckError(
                        member.path.relative_to(ROOT).as_posix(),
                        f"no wheel was built for {member.dist}",
                    )
                )
        for wheel in wheels:
            problems = static_checks(wheel, set(by_dist))
            failures += [CheckError(wheel.name, p) for p in problems]
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            top = ", ".join(sorted(wheel.top_level)) or "-"
            log(f"  {wheel.name}: top-level {top}; {len(wheel.packages)} package(s); {status}")

        if failures:
            log("install step skipped: fix the wheel problems first")
        else:
            failures += install_and_smoke(wheels, work, args.python)
    except CheckError as exc:
        failures.append(exc)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    elapsed = time.monotonic() - started
    if failures:
        print(file=sys.stderr)
        for failure in failures:
            print(f"dist-check: FAIL {failure.subject}: {failure.problem}", file=sys.stderr)
        print(f"dist-check: {len(failures)} problem(s), {elapsed:.1f}s", file=sys.stderr)
        return 1
    log(f"OK ({elapsed:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
