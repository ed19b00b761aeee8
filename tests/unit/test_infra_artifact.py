"""The artifact: every script and template source content-hashed, the manifest hashed too."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from ecomdw.core.errors import UserError
from ecomdw.infra.artifact import LIBRARY, Artifact, build, template_sources
from ecomdw.infra.pipeline import PipelineInput

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


SCRIPTS = PipelineInput().scripts


def test_each_job_script_is_the_etl_jobs_file_under_its_sha256() -> None:
    assert SCRIPTS == ("stage.py", "quality.py", "dimensions.py", "facts.py")
    artifact = build(SCRIPTS)
    assert set(artifact.scripts) == {*SCRIPTS, LIBRARY}
    for name in SCRIPTS:
        data = (ROOT / "packages/etl/src/ecomdw/etl/jobs" / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert artifact.scripts[name] == digest
        assert artifact.contents[name] == data
        assert artifact.key(name) == f"glue/{digest}/{name}"


def test_the_library_holds_the_packages_the_scripts_import_and_is_reproducible() -> None:
    first, second = build(SCRIPTS), build(SCRIPTS)
    assert first.contents[LIBRARY] == second.contents[LIBRARY]
    assert first.id == second.id
    names = zipfile.ZipFile(io.BytesIO(first.contents[LIBRARY])).namelist()
    assert "ecomdw/etl/jobs/runtime.py" in names
    assert "ecomdw/core/settings.py" in names
    files = [name for name in names if not name.endswith("/")]
    assert not [name for name in files if "__pycache__" in name or not name.endswith(".py")]
    # Every folder has its entry before its files: the zip importer finds the `ecomdw`
    # namespace package only by its folder's entry.
    parents = {
        "/".join(parts[:depth]) + "/"
        for parts in (name.split("/") for name in files)
        for depth in range(1, len(parts))
    }
    assert {name for name in names if name.endswith("/")} == parents
    for name in files:
        assert names.index(name.rsplit("/", 1)[0] + "/") < names.index(name)


def test_the_templates_source_is_the_infra_package_and_what_it_renders_from() -> None:
    sources = template_sources()
    infra = ROOT / "packages/infra/src/ecomdw/infra"
    assert set(sources) == {f"ecomdw/infra/{p.name}" for p in infra.glob("*.py")} | {
        "ecomdw/core/names.py",
        "ecomdw/etl/pipeline.py",
        "ecomdw/warehouse/load.py",
        "ecomdw/core/model.py",
        "ecomdw/core/processed.py",
        "ecomdw/core/redshift_ddl.py",
    }
    catalog = (infra / "catalog.py").read_bytes()
    assert sources["ecomdw/infra/catalog.py"] == hashlib.sha256(catalog).hexdigest()


def test_the_manifest_round_trips_and_an_altered_one_is_refused() -> None:
    artifact = build(SCRIPTS)
    assert Artifact.from_manifest(artifact.manifest, artifact.id) == artifact
    altered = {**artifact.manifest, "scripts": {**artifact.scripts, "stage.py": "0" * 64}}
    with pytest.raises(UserError, match="was altered"):
        Artifact.from_manifest(altered, artifact.id)


def test_contents_that_do_not_match_their_hash_are_refused() -> None:
    artifact = build(SCRIPTS)
    recorded = Artifact(artifact.scripts, artifact.templates)
    assert recorded.with_contents(artifact.contents).contents == artifact.contents
    with pytest.raises(UserError, match=r"glue/[0-9a-f]{64}/facts\.py does not match"):
        recorded.with_contents({**artifact.contents, "facts.py": b"print('not it')\n"})


def test_a_missing_job_script_is_named() -> None:
    with pytest.raises(UserError, match=r"no job script nowhere\.py in ecomdw\.etl\.jobs"):
        build(("stage.py", "nowhere.py"))
