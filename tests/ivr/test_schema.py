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
