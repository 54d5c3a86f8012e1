"""The whole configuration checked against one schema: every error with file, line, key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.config import ConfigError, load_config, parse_config
from hotline.config_schema import config_schema, section_properties
from hotline.wiring import build_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "hotline.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    return str(info.value)


def test_sample_config_passes_the_schema() -> None:
    load_config(SAMPLE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stat:\n  url: redis://x\n", "hotline.yaml:1: stat: unknown key (did you mean 'state'?)"),
        ("twillio: {}\n", "hotline.yaml:1: twillio: unknown key (did you mean 'twilio'?)"),
        ("acd:\n  pause_on_rna: true\n", "hotline.yaml:2: acd.pause_on_rna: unknown key (did you mean"),
        ("api:\n  tokenz: {}\n", "hotline.yaml:2: api.tokenz: unknown key (did you mean 'tokens'?)"),
        ("agents:\n  - id: a\n    skils: {x: 1}\n",
         "hotline.yaml:3: agents[0].skils: unknown key (did you mean 'skills'?)"),
        ("api:\n  port: 99999\n", "hotline.yaml:2: api.port: 99999 is out of range: must be at most 65535"),
        ("asterisk:\n  fastagi: {port: 99999}\n", "asterisk.fastagi.port: 99999 is out of range"),
        ("queues:\n  - {name: a, max_wait: -5}\n", "queues[0].max_wait: -5 is out of range"),
        ("web:\n  same_site: none\n", "hotline.yaml:2: web.same_site: 'none' is not one of"),
        ("web:\n  login_throttle: {max_failures: 0}\n", "web.login_throttle.max_failures: 0 is out of range"),
        ("web:\n  sesion_max_age: 600\n", "web.sesion_max_age: unknown key (did you mean 'session_max_age'?)"),
        ("agents:\n  - {name: nobody}\n", "agents[0]: missing required key 'id'"),
        ("agents: {id: 1}\n", "agents: expected a list, got a mapping"),
        ("acd: [1, 2]\n", "acd: expected a mapping"),
        ("store:\n  sla: [{minutes: .nan}]\n", "store.sla[0].minutes: expected a finite number"),
        ("acd: {occupancy_window: .inf}\n", "acd.occupancy_window: expected a finite number"),
        ("state: {url: http://x}\n", "state.url: 'http://x' is not a redis://"),
        ("name: x\nname: y\n", "hotline.yaml:2: name: duplicate key"),
        ("api: {host: a}\napi: {port: 1}\n", "hotline.yaml:2: api: duplicate key"),
        ("a: &x [*x]\n", "recursive alias"),
        ("[" * 5000 + "]" * 5000, "nested deeper than"),
        ("- 1\n", "top level: expected a mapping"),
    ],
)
def test_bad_configs_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _error(tmp_path, text)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = _error(tmp_path, "stat: {}\napi: {port: 0}\nagents: [{id: a, skils: {}}]\n")
    assert len(message.splitlines()) == 3


def test_every_section_refuses_an_unknown_key() -> None:
    for key, schema in section_properties().items():
        object_schema = next(
            (s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "object"), None
        )
        if object_schema is None:
            continue
        assert object_schema.get("additionalProperties") is False, key
        with pytest.raises(ConfigError, match=f"{key}.no_such_key: unknown key"):
            parse_config({key: {"no_such_key": 1}})


def test_every_key_of_the_sample_config_is_in_the_schema() -> None:
    raw = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    assert set(raw) <= set(config_schema()["properties"])


def test_overflow_cycles_are_refused() -> None:
    queues = [{"name": "a", "max_wait": 5, "overflow": "b"}, {"name": "b", "max_wait": 5, "overflow": "a"}]
    with pytest.raises(ConfigError, match="overflow in a circle: a -> b -> a"):
        parse_config({"queues": queues})


def _sample_with(tmp_path: Path, change: dict[str, Any]) -> Path:
    raw = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    for section, values in change.items():
        raw[section] = {**raw.get(section, {}), **values}
    raw["ivr"]["menus"] = [str(SAMPLE.parent / m) for m in raw["ivr"]["menus"]]
    return _write(tmp_path, yaml.safe_dump(raw))


def test_unknown_default_menu_refuses_the_start(tmp_path: Path) -> None:
    config = load_config(_sample_with(tmp_path, {"ivr": {"default_menu": "no-such-menu"}}))
    with pytest.raises(ConfigError, match=r"ivr\.default_menu: no menu file defines .no-such-menu."):
        build_app(config, speech=False, asterisk=False)


def test_unknown_menu_for_a_number_refuses_the_start(tmp_path: Path) -> None:
    config = load_config(_sample_with(tmp_path, {"asterisk": {"menus": {"1588": "typo-menu"}}}))
    with pytest.raises(ConfigError, match=r"asterisk\.menus\.1588: no menu file defines .typo-menu."):
        build_app(config, speech=False, asterisk=False)
