"""Rules of the repository itself: small files, lock-synced requirements, no .python-version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from galaxy_chat.testing.app_process import ROOT

MAX_LINES = 300


def tracked_files(pattern: str) -> list[str]:
    result = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_no_python_file_over_300_lines() -> None:
    files = tracked_files("*.py")
    assert files, "git ls-files found no Python files"
    too_long = {}
    for name in files:
        path = ROOT / name
        if path.exists():
            count = len(path.read_text().splitlines())
            if count > MAX_LINES:
                too_long[name] = count
    assert too_long == {}


def test_no_python_version_file() -> None:
    assert not (ROOT / ".python-version").exists()


def uv_binary() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to check the requirements files (pip install uv)"
    return uv


@pytest.mark.parametrize(("filename", "extra"), [("requirements.txt", ["--no-dev"]), ("requirements-dev.txt", [])])
def test_requirements_match_the_lock(filename: str, extra: list[str]) -> None:
    exported = subprocess.run(
        [uv_binary(), "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", *extra],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert (ROOT / filename).read_text() == exported, (
        f"{filename} drifted from uv.lock: run uv export --frozen --no-hashes --no-emit-project --no-header "
        f"{' '.join(extra)} -o {filename}"
    )


def test_imports_point_down_the_floors_only() -> None:
    """The layers of pyproject.toml's import-linter contracts: a new upward import fails here and in CI."""
    lint = str(Path(sys.executable).with_name("lint-imports"))  # beside this venv's python
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_file_refers_outside_the_repository() -> None:
    # The names are put together here so that this file does not hold them itself.
    names = ["../" + "shared", "/" + "work" + "/", "platform" + "-facts", "nicegui" + "-facts"]
    pattern = "|".join(re.escape(name) for name in names)
    found = subprocess.run(["git", "grep", "-n", "-E", pattern, "--", ":!.ci/*"],
                           cwd=ROOT, capture_output=True, text=True).stdout
    assert found == ""
