from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.cli import main
from tests.ivr.fakes import AIRLINE, ROOT
from tests.ivr.test_checker import BROKEN

OPEN_AT = "2026-11-23T10:00+09:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_passes_the_sample_and_fails_a_broken_menu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    code, out, _ = run(capsys, "ivr", "check", str(AIRLINE))
    assert code == 0 and "0 with errors" in out
    code, out, _ = run(capsys, "ivr", "check", str(AIRLINE), str(broken))
    assert code == 1
    assert f"{broken}:11: error: nodes.main.options[2].next: unknown target 'nowhere'" in out
    assert f"{broken}:10: error: nodes.main.options[1].dtmf: duplicate DTMF key" in out
    assert "2 file(s) checked: 1 with errors" in out
    code, out, _ = run(capsys, "ivr", "check", "--json", str(broken), str(tmp_path / "none.yaml"))
    report = json.loads(out)
    assert code == 1 and [r["ok"] for r in report] == [False, False]
    assert {"path": "nodes.orphan", "line": 20, "severity": "error"}.items() <= next(
        i for i in report[0]["issues"] if "unreachable" in i["message"]
    ).items()
    assert "cannot read" in report[1]["issues"][0]["message"]


def test_check_with_the_config_finds_unknown_queues(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "ivr", "check", str(AIRLINE), "--config", str(ROOT / "config" / "hotline.yaml")
    )
    assert code == 0, out  # every queue of the sample menu exists in the sample config


def test_try_prints_path_prompts_and_transfer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "ivr",
        "try",
        str(AIRLINE),
        "--at",
        OPEN_AT,
        "--dtmf",
        "2",
        "--say",
        "refund@0.5",
        "--say",
        "refund",
        "--dtmf",
        "1234567890124",
    )
    assert code == 0
    assert "say (en): Connecting you to a refund agent." in out
    assert "caller: speech 'refund' conf 0.50: low_confidence" in out
    assert "queue refund: skills refund=3, priority 0, tier regular, language en" in out
    assert "path: welcome > disruption > hours > identify > language > main > ticket_number" in out
    assert "1234567890124" not in out  # collected numbers are masked


def test_try_json_with_emergency_closed_hours_and_known_caller(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "ivr", "try", str(AIRLINE), "--emergency", "Typhoon", "--json")
    report = json.loads(out)
    assert code == 0 and report["path"] == ["welcome", "disruption", "disruption_queue"]
    assert report["transfer"]["queue"] == "emergency"
    assert report["walk"][1]["steps"][0]["prompts"][0]["text"] == "Typhoon"

    code, out, _ = run(
        capsys,
        "ivr",
        "try",
        str(AIRLINE),
        "--json",
        "--at",
        "2026-11-22T10:00+09:00",
        "--say",
        "네",
    )
    report = json.loads(out)
    assert report["outcome"] == "callback"
    assert report["transfer"]["callback_number"] == "+82******5678"

    code, out, _ = run(
        capsys,
        "ivr",
        "try",
        str(AIRLINE),
        "--json",
        "--at",
        OPEN_AT,
        "--tier",
        "vip",
        "--customer-lang",
        "zh",
        "--say",
        "人工",
    )
    report = json.loads(out)
    assert report["transfer"]["tier"] == "vip" and report["transfer"]["language"] == "zh"
    assert report["path"][-1] == "agent"


def test_try_survey_start_silence_hangup_and_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "ivr", "try", str(AIRLINE), "--start", "survey", "--dtmf", "4")
    assert code == 0 and "set survey_score = 4" in out and "hang up" in out
    code, out, _ = run(
        capsys, "ivr", "try", str(AIRLINE), "--at", OPEN_AT, "--silence", "--hangup", "--json"
    )
    assert json.loads(out)["outcome"] == "abandoned"
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    code, _, err = run(capsys, "ivr", "try", str(broken))
    assert code == 2 and "unknown target 'nowhere'" in err
    code, _, err = run(capsys, "ivr", "try", str(AIRLINE), "--dtmf", "1x")
    assert code == 2 and "only 0-9" in err
    code, _, err = run(capsys, "ivr", "try", str(AIRLINE), "--lang", "fr")
    assert code == 2 and "--lang 'fr'" in err
    code, _, err = run(capsys, "ivr", "try", str(AIRLINE), "--at", "yesterday")
    assert code == 2 and "ISO 8601" in err


def test_try_recognizes_audio_with_the_vosk_adapter(capsys: pytest.CaptureFixture[str]) -> None:
    clip = ROOT / "tests" / "fixtures" / "speech" / "kw_sangdamwon_ko_150.ulaw"
    code, out, _ = run(
        capsys,
        "ivr",
        "try",
        str(AIRLINE),
        "--at",
        OPEN_AT,
        "--dtmf",
        "1",
        "--audio",
        str(clip),
        "--json",
    )
    report = json.loads(out)
    assert code == 0 and report["path"][-1] == "agent"
    heard = [s for s in report["walk"][5]["steps"] if s["op"] == "input"]
    assert heard[0]["kind"] == "speech" and heard[0]["value"] == "상담원"


@pytest.mark.parametrize("encoding", ["u-law", "a-law", "signed-integer"])
def test_try_reads_mulaw_alaw_and_16_bit_wav_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    sox = shutil.which("sox")
    assert sox is not None, "sox is a Debian dependency of the test suite (.ci/services)"
    clip = ROOT / "tests" / "fixtures" / "speech" / "kw_sangdamwon_ko_150.ulaw"
    wav = tmp_path / f"answer-{encoding}.wav"
    bits = "16" if encoding == "signed-integer" else "8"
    subprocess.run(
        [sox, "-t", "ul", "-r", "8000", "-c", "1", str(clip), "-e", encoding, "-b", bits, str(wav)],
        check=True,
    )
    code, out, _ = run(
        capsys, "ivr", "try", str(AIRLINE), "--at", OPEN_AT, "--dtmf", "1",
        "--audio", str(wav), "--json",
    )
    report = json.loads(out)
    assert code == 0 and report["path"][-1] == "agent", report["path"]
    heard = [s for s in report["walk"][5]["steps"] if s["op"] == "input"]
    assert heard[0]["kind"] == "speech" and heard[0]["value"] == "상담원"


def test_schema_command_and_installed_entry_point(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    subprocess.run(
        [sys.executable, "-m", "hotline.cli", "ivr", "schema", "--write", str(target)],
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert target.read_text(encoding="utf-8") == (ROOT / "ivr" / "menu.schema.json").read_text(
        encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "ivr", "check", str(AIRLINE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0 and "0 with errors" in done.stdout


def test_check_speech_warns_about_keywords_outside_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text(
        AIRLINE.read_text(encoding="utf-8").replace(
            "keywords: {ko: [환불]", "keywords: {ko: [환불, 스카이레일환불]"
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "ivr", "check", "--speech", str(menu))
    assert code == 0  # warnings only
    line = next(
        n
        for n, text in enumerate(menu.read_text(encoding="utf-8").splitlines(), 1)
        if "스카이레일환불" in text
    )
    assert (
        f"{menu}:{line}: warning: nodes.main.options[1].keywords.ko: not in the ko speech "
        "model's vocabulary: 스카이레일환불"
    ) in out
    assert "no speech model for 'en'" in out
    assert "예약" not in out  # the reliable keywords are all in the vocabulary
