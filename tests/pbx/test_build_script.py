"""tools/pbx/build.sh: where the tests' Asterisk comes from, and the message when there is none.

These run the script from a copy of it in an empty folder tree (no `../shared/asterisk`
beside it, an empty cache), so they never build anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "pbx" / "build.sh"


def run_script(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    repo = tmp_path / "a" / "b" / "repo"  # ../shared and ../../shared do not exist here
    (repo / "tools" / "pbx").mkdir(parents=True, exist_ok=True)
    shutil.copy(SCRIPT, repo / "tools" / "pbx" / "build.sh")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("ASTERISK_PREFIX", "ASTERISK_TARBALL", "PJPROJECT_TARBALL", "HOTLINE_ASTERISK_SOURCES")}
    clean["HOTLINE_PBX_CACHE"] = str(tmp_path / "cache")
    return subprocess.run(["bash", str(repo / "tools" / "pbx" / "build.sh")], capture_output=True, text=True,
                          env={**clean, **env}, timeout=60, check=False)


def test_no_asterisk_anywhere_fails_naming_the_three_ways_to_provide_one(tmp_path: Path) -> None:
    done = run_script(tmp_path)
    assert done.returncode != 0
    for name in ("ASTERISK_PREFIX", "ASTERISK_TARBALL", "HOTLINE_ASTERISK_SOURCES"):
        assert name in done.stderr, done.stderr
    assert "no Asterisk found" in done.stderr


def test_an_installed_asterisk_is_used_as_it_is(tmp_path: Path) -> None:
    prefix = tmp_path / "opt" / "asterisk"
    (prefix / "sbin").mkdir(parents=True)
    binary = prefix / "sbin" / "asterisk"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    done = run_script(tmp_path, ASTERISK_PREFIX=str(prefix))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(prefix)


def test_a_prefix_without_asterisk_in_it_is_refused_by_name(tmp_path: Path) -> None:
    done = run_script(tmp_path, ASTERISK_PREFIX=str(tmp_path / "nothing"))
    assert done.returncode != 0
    assert f"ASTERISK_PREFIX={tmp_path / 'nothing'} has no sbin/asterisk" in done.stderr


@pytest.mark.parametrize("with_pjproject", [False, True])
def test_a_release_tarball_by_path_needs_its_pjproject(tmp_path: Path, with_pjproject: bool) -> None:
    missing = run_script(tmp_path, ASTERISK_TARBALL=str(tmp_path / "asterisk-22.0.0.tar.gz"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    tarball = tmp_path / "dl" / "asterisk-22.0.0.tar.gz"
    tarball.parent.mkdir()
    tarball.write_bytes(b"not really a tarball")
    env = {"ASTERISK_TARBALL": str(tarball)}
    if with_pjproject:  # named, but absent: the message says which file
        env["PJPROJECT_TARBALL"] = str(tmp_path / "dl" / "pjproject-2.17.tar.bz2")
    done = run_script(tmp_path, **env)
    assert done.returncode != 0
    assert "PJPROJECT_TARBALL" in done.stderr and "third-party/versions.mak" in done.stderr
