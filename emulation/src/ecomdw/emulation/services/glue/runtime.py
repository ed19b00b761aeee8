"""The Python environment the emulated Glue runs job scripts in: exactly Glue 5.0's modules.

A job that imports fine from the workspace can fail on Glue: what ships is the script and its
`--extra-py-files`, on Glue's own library versions. So job scripts run in an environment built
from the pinned, hashed list beside this module (`glue-5.0.txt`, compiled from `glue-5.0.in`,
which names its source), and nothing else is importable but what the job's arguments bring.

The environment is built once per machine at setup (`python -m
ecomdw.emulation.services.glue.runtime build`, which `python3 dev.py` runs), into a folder named
by the list's hash: an edited list builds a new environment and never alters one a running job
uses. A job's `--additional-python-modules` go into an overlay on top of it, as Glue's pip
installs them over its own: a virtual environment whose `.pth` file puts the Glue environment's
packages after its own, so pip keeps a provided module that satisfies a requirement and installs
only the rest. Overlays are kept by what they hold, so the second run of a job installs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from ecomdw.core.errors import UserError

RUNTIMES_VARIABLE = "ECOMDW_RUNTIMES"
"""Where runtime environments are kept; default `~/.cache/ecomdw/runtimes`."""
READY = "ecomdw-runtime.json"
"""Written last into a built environment: its list's hash and the distributions it holds."""
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


class RuntimeMissingError(UserError):
    """The Glue environment has not been built on this machine."""


class UnsupportedGlueVersionError(UserError):
    """A job asks for a Glue version this emulator has no environment for."""


class ModuleInstallError(UserError):
    """pip could not install a job's `--additional-python-modules`."""


def runtimes_home() -> Path:
    configured = os.environ.get(RUNTIMES_VARIABLE)
    return Path(configured) if configured else Path.home() / ".cache" / "ecomdw" / "runtimes"


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing): one builder at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str | Path], what: str) -> None:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise UserError(f"{what} failed: {' '.join(output[-5:])}")


def _site_packages(environment: Path) -> Path:
    return (
        environment
        / "lib"
        / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        / ("site-packages")
    )


def _distributions(site: Path) -> dict[str, str]:
    """Every distribution installed in `site`: normalized name -> version."""
    return {
        normalized(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions(path=[str(site)])
    }


@dataclass(frozen=True)
class GlueRuntime:
    """One Glue version's job environment: `glue-<version>.txt` installed, nothing more."""

    version: str

    @cached_property
    def requirements(self) -> bytes:
        return resources.files(__package__).joinpath(f"glue-{self.version}.txt").read_bytes()

    @cached_property
    def pinned(self) -> dict[str, str]:
        """What the list pins: normalized name -> version."""
        text = self.requirements.decode()
        return {normalized(name): version for name, version in PINNED.findall(text)}

    @property
    def root(self) -> Path:
        digest = hashlib.sha256(self.requirements).hexdigest()[:12]
        return runtimes_home() / f"glue-{self.version}-{digest}"

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return _site_packages(self.root)

    def ready(self) -> bool:
        return (self.root / READY).is_file() and self.python.exists()

    def require(self) -> Path:
        """The environment's Python, or a one-line error saying how to build it."""
        if not self.ready():
            raise RuntimeMissingError(
                f"the Glue {self.version} job environment is not built ({self.root}): run "
                "`python3 dev.py lint` (setup builds it) or "
                "`python -m ecomdw.emulation.services.glue.runtime build`"
            )
        return self.python

    def build(self) -> Path:
        """Build the environment if it is not there yet, from the hashed list (uv if on PATH,
        else venv and pip), and check it holds exactly the list."""
        with _locked(self.root.with_name(f"{self.root.name}.lock")):
            if self.ready():
                return self.python
            shutil.rmtree(self.root, ignore_errors=True)
            requirements = self.root.with_name(f"{self.root.name}.txt")
            requirements.write_bytes(self.requirements)
            uv = shutil.which("uv")
            if uv:
                _run([uv, "venv", "--quiet", "--python", sys.executable, self.root], "uv venv")
                install: list[str | Path] = [uv, "pip", "sync", "--quiet", "--python", self.python]
                _run([*install, "--require-hashes", requirements], "installing Glue's modules")
            else:
                _run([sys.executable, "-m", "venv", self.root], "python -m venv")
                pip: list[str | Path] = [self.python, "-m", "pip", "install", "--no-deps"]
                _run([*pip, "--quiet", "--require-hashes", "-r", requirements], "pip install")
            requirements.unlink()
            installed = _distributions(self.site_packages)
            if installed != self.pinned:
                extra = sorted(set(installed.items()) - set(self.pinned.items()))
                missing = sorted(set(self.pinned.items()) - set(installed.items()))
                raise UserError(
                    f"the Glue {self.version} environment differs from its list: "
                    f"extra {extra}, missing {missing}"
                )
            ready = {"requirements_sha256": hashlib.sha256(self.requirements).hexdigest()}
            (self.root / READY).write_text(json.dumps(ready | {"distributions": installed}))
        return self.python

    def overlay(self, modules: Sequence[str], installer_options: Sequence[str] = ()) -> Path:
        """The Python of an environment with `modules` installed over this one, as Glue's pip
        installs `--additional-python-modules` (names with versions, or local wheel paths)."""
        base = self.require()
        key = json.dumps([list(modules), list(installer_options), *map(_file_digest, modules)])
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        root = self.root.with_name(f"{self.root.name}-overlays") / digest
        python = root / "bin" / "python"
        with _locked(root.with_name(f"{digest}.lock")):
            if (root / READY).is_file():
                return python
            shutil.rmtree(root, ignore_errors=True)
            _run([base, "-m", "venv", "--without-pip", root], "python -m venv")
            site = _site_packages(root)
            (site / "glue-runtime.pth").write_text(f"{self.site_packages}\n")
            done = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-warn-script-location",
                    *installer_options,
                    *modules,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                shutil.rmtree(root, ignore_errors=True)
                lines = (done.stderr or done.stdout).strip().splitlines()
                raise ModuleInstallError(
                    f"pip could not install {', '.join(modules)}: {' '.join(lines[-3:])}"
                )
            (root / READY).write_text(json.dumps({"modules": list(modules)}))
        return python


def _file_digest(module: str) -> str:
    """A local wheel's content hash (a name with a version is its own key)."""
    path = Path(module)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


COMMITTER_CLASS = "ecomdw.emulation.DirectOutputCommitter"
COMMITTER_SETTINGS = (
    "spark.sql.parquet.output.committer.class",
    "spark.sql.sources.outputCommitterClass",
)
"""The SQL settings naming the committer of Spark's parquet writes and of its other writes."""


def committer_jar(runtime: GlueRuntime, javac: Path) -> Path | None:
    """The direct committer (`committer/DirectOutputCommitter.java`), compiled once per source
    against the Hadoop of Glue's Spark; None without a Java compiler (writes then take
    Hadoop's renaming committer, as plain Spark does)."""
    source = resources.files(__package__).joinpath("committer/DirectOutputCommitter.java")
    text = source.read_bytes()
    jar = runtimes_home() / f"direct-committer-{hashlib.sha256(text).hexdigest()[:12]}.jar"
    if jar.is_file():
        return jar
    hadoop = next(
        (runtime.site_packages / "pyspark" / "jars").glob("hadoop-client-api-*.jar"), None
    )
    jar_tool = javac.with_name("jar")
    if hadoop is None or not javac.is_file() or not jar_tool.is_file():
        return None
    with _locked(jar.with_suffix(".lock")), tempfile.TemporaryDirectory() as work:
        if jar.is_file():
            return jar
        folder = Path(work)
        (folder / "DirectOutputCommitter.java").write_bytes(text)
        _run([javac, "--release", "17", "-cp", hadoop, "-d", folder / "classes",
              folder / "DirectOutputCommitter.java"], "compiling the direct committer")  # fmt: skip
        built = folder / "committer.jar"
        _run([jar_tool, "cf", built, "-C", folder / "classes", "."], "packing the direct committer")
        shutil.move(built, jar)
    return jar


RUNTIMES = {"5.0": GlueRuntime("5.0")}


DEFAULT_GLUE_VERSION = "0.9"
"""A job created without `GlueVersion` is Glue 0.9 (Glue API reference, `Job.GlueVersion`)."""


def runtime_for(glue_version: str | None) -> GlueRuntime:
    """The environment of a job's `GlueVersion`; only the versions listed here are emulated."""
    version = glue_version or DEFAULT_GLUE_VERSION
    runtime = RUNTIMES.get(version)
    if runtime is None:
        given = glue_version or f"{DEFAULT_GLUE_VERSION} (the default when none is given)"
        raise UnsupportedGlueVersionError(
            f"GlueVersion {given} is not emulated: ecomdw runs jobs as Glue "
            f"{', '.join(RUNTIMES)} runs them"
        )
    return runtime


def main(argv: list[str]) -> int:
    """`build`: every runtime environment, if missing; `python`: print 5.0's interpreter."""
    if argv == ["build"]:
        from ecomdw.etl.spark import java_home

        for runtime in RUNTIMES.values():
            print(f"Glue {runtime.version} job environment: {runtime.build()}")
            jar = committer_jar(runtime, java_home() / "bin" / "javac")
            print(f"direct committer: {jar or 'not built (no javac): Hadoop commits by rename'}")
        return 0
    if argv == ["python"]:
        print(RUNTIMES["5.0"].require())
        return 0
    print("usage: python -m ecomdw.emulation.services.glue.runtime build|python", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
