"""The artifact: every script and template source content-hashed, the manifest hashed too."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from ecomdw.core.errors import UserError
from ecomdw.infra.artifact import LIBRARY, Artifact, build, template_sources
from ecomdw.infra.pipeline import GLUE_STAGES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_each_stage_script_is_the_etl_jobs_file_under_its_sha256() -> None:
    artifact = build(GLUE_STAGES)
    assert set(artifact.scripts) == {f"{stage}.py" for stage in GLUE_STAGES} | {LIBRARY}
    for stage in GLUE_STAGES:
        data = (ROOT / "packages/etl/src/ecomdw/etl/jobs" / f"{stage}.py").read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert artifact.scripts[f"{stage}.py"] == digest
        assert artifact.contents[f"{stage}.py"] == data
        assert artifact.key(f"{stage}.py") == f"glue/{digest}/{stage}.py"


def test_the_library_holds_the_packages_the_scripts_import_and_is_reproducible() -> None:
    first, second = build(GLUE_STAGES), build(GLUE_STAGES)
    assert first.contents[LIBRARY] == second.contents[LIBRARY]
    assert first.id == second.id
    names = zipfile.ZipFile(io.BytesIO(first.contents[LIBRARY])).namelist()
    assert "ecomdw/etl/jobs/runtime.py" in names
    assert "ecomdw/core/settings.py" in names
    assert not [name for name in names if "__pycache__" in name or not name.endswith(".py")]


def test_the_templates_source_is_the_infra_package_and_the_settings() -> None:
    sources = template_sources()
    infra = ROOT / "packages/infra/src/ecomdw/infra"
    assert set(sources) == {f"ecomdw/infra/{p.name}" for p in infra.glob("*.py")} | {
        "ecomdw/core/settings.py"
    }
    catalog = (infra / "catalog.py").read_bytes()
    assert sources["ecomdw/infra/catalog.py"] == hashlib.sha256(catalog).hexdigest()


def test_the_manifest_round_trips_and_an_altered_one_is_refused() -> None:
    artifact = build(GLUE_STAGES)
    assert Artifact.from_manifest(artifact.manifest, artifact.id) == artifact
    altered = {**artifact.manifest, "scripts": {**artifact.scripts, "stage.py": "0" * 64}}
    with pytest.raises(UserError, match="was altered"):
        Artifact.from_manifest(altered, artifact.id)


def test_contents_that_do_not_match_their_hash_are_refused() -> None:
    artifact = build(GLUE_STAGES)
    recorded = Artifact(artifact.scripts, artifact.templates)
    assert recorded.with_contents(artifact.contents).contents == artifact.contents
    with pytest.raises(UserError, match=r"glue/[0-9a-f]{64}/facts\.py does not match"):
        recorded.with_contents({**artifact.contents, "facts.py": b"print('not it')\n"})


def test_a_stage_without_a_job_script_is_named() -> None:
    with pytest.raises(UserError, match=r"stage nowhere: no job script nowhere\.py"):
        build(("stage", "nowhere"))
