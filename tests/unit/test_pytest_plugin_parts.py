"""The pytest plugin's pure parts: how a script is given, what the `aws` target reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.core.errors import UserError
from ecomdw.core.names import Environment
from ecomdw.emulation.services.glue.jobs import import_path
from ecomdw.testing.glue import script_text
from ecomdw.testing.targets import aws_settings

pytestmark = pytest.mark.unit


def test_a_script_is_a_file_or_its_text(tmp_path: Path) -> None:
    job = tmp_path / "clean.py"
    job.write_text("print('from the file')\n")

    assert script_text(job) == ("clean.py", "print('from the file')\n")
    assert script_text(str(job)) == ("clean.py", "print('from the file')\n")
    assert script_text("\n    import sys\n    print(sys.argv)\n") == (
        "script.py",
        "\nimport sys\nprint(sys.argv)\n",
    )


def test_the_aws_target_reads_boto3s_variables() -> None:
    settings = aws_settings(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert (settings.env, settings.endpoint_url, settings.region) == (
        Environment.DEV,
        "http://127.0.0.1:5000",
        "eu-west-1",
    )
    on_aws = aws_settings({"AWS_REGION": "eu-north-1", "ECOMDW_ENV": "staging"})
    assert (on_aws.env, on_aws.endpoint_url, on_aws.region) == (
        Environment.STAGING,
        None,
        "eu-north-1",
    )
    with pytest.raises(UserError, match="ECOMDW_ENV=local"):
        aws_settings({"ECOMDW_ENV": "local"})


def test_extra_py_files_import_as_archives_and_single_modules() -> None:
    assert import_path(["/w/py/lib.zip", "/w/py/rules.py", "/w/py/more.py", "/w/py/a.whl"]) == [
        "/w/py/lib.zip",
        "/w/py",
        "/w/py/a.whl",
    ]
