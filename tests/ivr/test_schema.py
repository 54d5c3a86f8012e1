from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from hotline.commands.ivr import schema_text
from ivr.schema import MENU_SCHEMA, NODE_KINDS
from ivr.source import load_source
from tests.ivr.fakes import AIRLINE, ROOT


def test_published_schema_is_in_sync() -> None:
    published = (ROOT / "ivr" / "menu.schema.json").read_text(encoding="utf-8")
    assert published == schema_text(), "run: hotline ivr schema --write ivr/menu.schema.json"
    Draft202012Validator.check_schema(json.loads(published))


def test_every_node_kind_has_a_handler_and_a_schema_branch() -> None:
    from ivr.interpreter import _Run

    branches = MENU_SCHEMA["$defs"]["node"]["allOf"]
    assert [b["if"]["properties"]["kind"]["const"] for b in branches] == list(NODE_KINDS)
    assert all(hasattr(_Run, f"node_{kind}") for kind in NODE_KINDS)


def test_sample_menu_validates_against_the_published_schema() -> None:
    schema = json.loads((ROOT / "ivr" / "menu.schema.json").read_text(encoding="utf-8"))
    data = load_source(AIRLINE.read_text(encoding="utf-8")).data
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    data["nodes"]["main"]["options"][0]["dtmf"] = "12"
    assert list(Draft202012Validator(schema).iter_errors(data))


def test_ivr_config_section() -> None:
    import pytest

    from ivr.settings import IvrConfigError, parse_ivr_settings

    cfg = parse_ivr_settings(
        {
            "menus": ["menus/airline.yaml"],
            "default_menu": "skyrail-main",
            "numbers": {"1588-0000": "skyrail-main", "15889999": "rail"},
            "confidence": 0.9,
            "max_steps": 30,
        }
    )
    assert cfg.menus == ("menus/airline.yaml",)
    assert cfg.menu_for("15880000") == "skyrail-main" and cfg.menu_for("1588 9999") == "rail"
    assert cfg.menu_for("000") == "skyrail-main" and cfg.menu_for(None) == "skyrail-main"
    assert cfg.run.confidence == 0.9 and cfg.run.max_steps == 30 and cfg.run.lookup_timeout == 2.0
    for bad in ({"confidence": 2}, {"menus": "a.yaml"}, {"colour": 1}, {"max_steps": True}):
        with pytest.raises(IvrConfigError):
            parse_ivr_settings(bad)


def test_sample_config_ivr_section_points_at_clean_menus() -> None:
    from hotline.config import load_config
    from ivr.registry import MenuRegistry
    from ivr.settings import parse_ivr_settings

    config = load_config(ROOT / "config" / "hotline.yaml")
    ivr = parse_ivr_settings(config.section("ivr"))
    registry = MenuRegistry(queues=[q.name for q in config.queues])
    for path in ivr.menus:
        result = registry.load(config.resolve(path).read_text(encoding="utf-8"), path)
        assert result.ok, [i.format(path) for i in result.errors]
    assert ivr.menu_for("15880000") in registry.names()
