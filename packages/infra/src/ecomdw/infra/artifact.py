"""The deployable artifact: the Glue job scripts and the templates' source, content-hashed.

Promotion deploys what passed below byte for byte. Each script lives in the scripts bucket
under a key named by its sha256 and the Glue jobs point at those keys, so a changed script is
a changed template and shows in the change set. Templates are rendered per environment, so
what is hashed is their source (the infra package, and the settings that name resources): an
environment is only ever promoted from the source that rendered the one below.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from ecomdw.core.errors import UserError

SCRIPTS_PREFIX = "glue/"
RECORD_PREFIX = "deployments/"
RECORD_KEY = f"{RECORD_PREFIX}current.json"
"""Where in its scripts bucket an environment records the artifact it last deployed in full."""
LIBRARY = "ecomdw.zip"
"""The ecomdw packages the job scripts import, passed to every job as `--extra-py-files`."""
JOB_SCRIPTS = "ecomdw.etl.jobs"
LIBRARY_PACKAGES = ("ecomdw.core", "ecomdw.etl")
TEMPLATE_SOURCES: tuple[tuple[str, str | None], ...] = (
    ("ecomdw.infra", None),
    ("ecomdw.core", "names.py"),  # resource names
    ("ecomdw.etl", "pipeline.py"),  # the jobs, their arguments, workflow and state machine
    # The load SQL inside the state machine, and what it is written from:
    ("ecomdw.warehouse", "load.py"),
    ("ecomdw.core", "model.py"),
    ("ecomdw.core", "processed.py"),
    ("ecomdw.core", "redshift_ddl.py"),
)
"""What the templates are rendered from: (package, one file of it or None for all)."""
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every library entry's timestamp: the zip's bytes depend on its sources alone."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Artifact:
    """The manifest: script file name -> sha256, template source path -> sha256."""

    scripts: Mapping[str, str]
    templates: Mapping[str, str]
    contents: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    """The scripts' bytes, where this process has them (built here, or read and verified)."""

    @property
    def manifest(self) -> dict[str, Any]:
        return {"scripts": dict(sorted(self.scripts.items())),
                "templates": dict(sorted(self.templates.items()))}  # fmt: skip

    @property
    def id(self) -> str:
        """The manifest's own sha256: one id for the whole artifact."""
        return sha256(json.dumps(self.manifest, sort_keys=True).encode())

    def key(self, script: str) -> str:
        """Where `script` lives in a scripts bucket: under its content hash."""
        return f"{SCRIPTS_PREFIX}{self.scripts[script]}/{script}"

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], recorded_id: str) -> Artifact:
        artifact = cls(dict(manifest["scripts"]), dict(manifest["templates"]))
        if artifact.id != recorded_id:
            raise UserError(
                f"the record of artifact {recorded_id[:12]} was altered: its manifest hashes "
                f"to {artifact.id[:12]}"
            )
        return artifact

    def with_contents(self, contents: Mapping[str, bytes]) -> Artifact:
        """The same artifact with its scripts' bytes, each checked against its hash."""
        for script, data in contents.items():
            if sha256(data) != self.scripts[script]:
                raise UserError(
                    f"{self.key(script)} does not match its recorded sha256: "
                    "the object changed after it was deployed"
                )
        return Artifact(self.scripts, self.templates, dict(contents))


def build(scripts: tuple[str, ...]) -> Artifact:
    """The artifact of this checkout: the job scripts (file names in `ecomdw.etl.jobs`), the
    library, the templates' source."""
    jobs = resources.files(JOB_SCRIPTS)
    contents = {}
    for name in scripts:
        script = jobs.joinpath(name)
        if not script.is_file():
            raise UserError(f"no job script {name} in {JOB_SCRIPTS}")
        contents[name] = script.read_bytes()
    contents[LIBRARY] = library()
    hashes = {name: sha256(data) for name, data in contents.items()}
    return Artifact(hashes, template_sources(), contents)


def template_sources() -> dict[str, str]:
    """Path -> sha256 of every file the templates are rendered from."""
    return {
        path: sha256(file.read_bytes())
        for package, only in TEMPLATE_SOURCES
        for path, file in _files(package)
        if only in (None, file.name)
    }


def library() -> bytes:
    """A zip of the library packages' Python sources, the same bytes for the same sources.

    Each folder has an entry of its own before its files: `ecomdw` is a namespace package (no
    `__init__.py`), and Python's zip importer finds a namespace package only by its folder's
    entry, so without them `import ecomdw` fails on Glue.
    """
    files = [(path, file) for package in LIBRARY_PACKAGES for path, file in _files(package)]
    folders = sorted({parent for path, _ in files for parent in _parents(path)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for folder in folders:
            entry = zipfile.ZipInfo(f"{folder}/", date_time=ZIP_TIME)
            entry.external_attr = (0o40755 << 16) | 0x10  # a directory, for unzip and zipimport
            archive.writestr(entry, b"")
        for path, file in files:
            entry = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, file.read_bytes())
    return buffer.getvalue()


def _parents(path: str) -> Iterator[str]:
    """`a`, `a/b` for `a/b/c.py`."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        yield "/".join(parts[:depth])


def _files(package: str) -> Iterator[tuple[str, Traversable]]:
    """(path as `ecomdw/...`, file) of every Python file in `package` and below, sorted."""

    def walk(folder: Traversable, path: str) -> Iterator[tuple[str, Traversable]]:
        for item in sorted(folder.iterdir(), key=lambda item: item.name):
            if item.is_dir() and item.name != "__pycache__":
                yield from walk(item, f"{path}/{item.name}")
            elif item.is_file() and item.name.endswith(".py"):
                yield f"{path}/{item.name}", item

    yield from walk(resources.files(package), package.replace(".", "/"))
