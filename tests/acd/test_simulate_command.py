"""`hotline simulate`: JSON report, event log, overrides, text tables, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "config" / "simulation"


def test_json_report_and_event_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    argv = ["simulate", str(CONFIGS / "airline.yaml"), "--json", "--seed", "5",
            "--duration", "1800", "--events", str(events)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seed"] == 5
    assert report["duration"] == 1800
    assert report["overall"]["offered"] > 0
    assert {"service_level", "asa", "p_wait", "abandon_rate", "occupancy"} <= set(report["overall"])
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(lines) > 100
    for line in lines:
        assert {"at", "kind", "call_id", "agent_id", "queue", "priority"} <= set(line)
    assigned = [line for line in lines if line["kind"] == "call_assigned"]
    assert assigned and all(line["call_id"] and line["agent_id"] and line["queue"] for line in assigned)
    answered = [line for line in lines if line["kind"] == "call_answered"]
    assert all(isinstance(line["priority"], int) for line in answered)  # filled in from the arrival
    talking = [line for line in lines if line["kind"] == "agent_state_changed" and line["new"] == "on_call"]
    assert talking and all(line["queue"] for line in talking)
    assert sum(1 for line in lines if line["kind"] == "call_arrived") == report["arrivals"]

    assert main(argv) == 0  # the same seed gives the same run
    assert json.loads(capsys.readouterr().out)["overall"] == report["overall"]


def test_text_report_shows_erlang_c_for_an_mmn_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CONFIGS / "mmn.yaml"), "--duration", "36000"]) == 0
    out = capsys.readouterr().out
    assert "Erlang C" in out and "P(wait)" in out and "support" in out
    assert main(["simulate", str(CONFIGS / "mmn.yaml"), "--duration", "3600", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["erlang_c"]["agents"] == 33
    assert data["queues"][0]["erlang_c"]["load"] == pytest.approx(30.0)


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [{name: q}]\ntraffic: [{queue: q, calls_per_hour: 5}]\n")
    assert main(["simulate", str(bad)]) == 2
    assert "'handle' is required" in capsys.readouterr().err
    assert main(["simulate", str(CONFIGS / "mmn.yaml"), "--duration", "-5"]) == 2
    assert "--duration" in capsys.readouterr().err
