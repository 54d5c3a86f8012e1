"""Fuzzing the configuration loader: random YAML text and random mappings shaped like the
configuration give a ConfigError or a configuration, never another exception."""

from __future__ import annotations

import contextlib
import copy
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.config import ConfigError, HotlineConfig, load_config, parse_config
from hotline.config_schema import section_properties
from hotline.wiring import build_app

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
SAMPLE_DATA = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
SAMPLE_DATA.pop("speech")  # no model loading; menus are fuzzed in tests/ivr/test_menu_fuzz.py
SAMPLE_DATA["ivr"] = {"confidence": 0.9}
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "100"))  # more for a deeper run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keys(schema: Any, out: set[str]) -> set[str]:
    if isinstance(schema, dict):
        out.update(k for k in schema.get("properties", {}) if isinstance(k, str))
        for value in schema.values():
            _keys(value, out)
    elif isinstance(schema, list):
        for value in schema:
            _keys(value, out)
    return out


KNOWN_KEYS = sorted(_keys(section_properties(), set(section_properties())))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["admin", "agent", "redis://x", "longest_idle", "KR", "1001", "PJSIP/{number}@t"]),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(string.ascii_lowercase + "_", min_size=1, max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)
YAML_ALPHABET = string.ascii_letters[:6] + string.digits[:4] + " \n:-[]{},&*!|>'\"#?%@`.\t"


def _build(config: HotlineConfig) -> None:
    # parses every adapter section as the server does; nothing starts
    build_app(config, speech=True, store_url="sqlite+aiosqlite:///nowhere/fuzz.db")


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(section_properties())), values, max_size=6))
def test_random_mappings_give_config_errors_only(data: dict[str, Any]) -> None:
    try:
        config = parse_config(data)
    except ConfigError:
        return
    with contextlib.suppress(ConfigError):
        _build(config)


@FUZZ
@given(st.sampled_from(sorted(SAMPLE_DATA)), st.sampled_from(KNOWN_KEYS), values)
def test_mutated_sample_gives_config_errors_only(section: str, key: str, value: Any) -> None:
    data = copy.deepcopy(SAMPLE_DATA)
    target = data[section]
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list) and target and isinstance(target[0], dict):
        target[0][key] = value
    else:
        data[section] = value
    try:
        config = parse_config(data)
    except ConfigError:
        return
    with contextlib.suppress(ConfigError):
        _build(config)


@FUZZ
@given(st.text(YAML_ALPHABET, max_size=200) | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_random_yaml_text_gives_config_errors_only(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hotline.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        with contextlib.suppress(ConfigError):
            load_config(path)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_give_config_errors_only(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hotline.yaml"
        path.write_bytes(raw)
        with contextlib.suppress(ConfigError):
            load_config(path)
