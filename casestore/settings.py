"""The `store:` section of config/hotline.yaml, parsed into `StoreSettings`.

    store:
      url: sqlite+aiosqlite:///data/hotline.db   # default: <data_dir>/hotline.db
      data_dir: data                             # relative to the config file
      retention_years: 3
      batch_size: 500          # writer flushes when this many events are buffered...
      flush_interval: 0.2      # ...or after this many seconds
      cases:                   # queue -> category and priority of the case opened per call
        complaint: {category: complaint, priority: general}
      sla:                     # checked before the built-in defaults
        - {category: complaint, priority: urgent, minutes: 15}
      sources: [asterisk]      # calls this server writes; default: its enabled adapters
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casestore.sla import DEFAULT_SLA_RULES, PRIORITIES, SlaRule, parse_sla_rules

if TYPE_CHECKING:
    from hotline.config import HotlineConfig
    from hotline.encryption import Keyring


class StoreConfigError(ValueError):
    """The `store:` section is invalid."""


@dataclass(frozen=True, slots=True)
class CaseDefaults:
    category: str
    priority: str


DEFAULT_CASES: Mapping[str, CaseDefaults] = {
    "emergency": CaseDefaults("emergency", "urgent"),
    "booking": CaseDefaults("ticketing", "common"),
    "refund": CaseDefaults("refund", "common"),
    "baggage": CaseDefaults("baggage", "common"),
    "complaint": CaseDefaults("complaint", "general"),
    "general": CaseDefaults("consultation", "common"),
}
FALLBACK_CASE = CaseDefaults("consultation", "common")


def default_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}"


@dataclass(frozen=True)
class StoreSettings:
    url: str
    data_dir: Path = Path("data")
    retention_years: float = 3.0
    batch_size: int = 500
    flush_interval: float = 0.2
    cases: Mapping[str, CaseDefaults] = field(default_factory=lambda: dict(DEFAULT_CASES))
    sla_rules: tuple[SlaRule, ...] = DEFAULT_SLA_RULES
    sources: tuple[str, ...] | None = None  # None: the server's enabled adapters
    keyring: Keyring | None = None  # the `encryption:` section's keys (docs/security.md)

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    def case_defaults(self, queue: str) -> CaseDefaults:
        return self.cases.get(queue, FALLBACK_CASE)


def parse_store_settings(raw: Mapping[str, Any] | None, base: Path | None = None) -> StoreSettings:
    """Parse the raw section; relative paths are taken from `base` (the config file's folder)."""
    data = dict(raw or {})
    known = {"url", "data_dir", "retention_years", "batch_size", "flush_interval", "cases", "sla", "sources"}
    unknown = set(data) - known
    if unknown:
        raise StoreConfigError(f"store: unknown keys {sorted(unknown)}")
    data_dir = Path(str(data.get("data_dir", "data")))
    if base is not None and not data_dir.is_absolute():
        data_dir = base / data_dir
    cases = dict(DEFAULT_CASES)
    raw_cases = data.get("cases") or {}
    if not isinstance(raw_cases, Mapping):
        raise StoreConfigError("store.cases: must map queue names to {category, priority}")
    for queue, item in raw_cases.items():
        if not isinstance(item, Mapping) or "category" not in item:
            raise StoreConfigError(f"store.cases.{queue}: needs a category (and a priority)")
        priority = str(item.get("priority", "common"))
        if priority not in PRIORITIES:
            raise StoreConfigError(f"store.cases.{queue}.priority: {priority!r} is not one of {PRIORITIES}")
        cases[str(queue)] = CaseDefaults(str(item["category"]), priority)
    try:
        sla = parse_sla_rules(data.get("sla"))
        retention = float(data.get("retention_years", 3))
        batch_size = int(data.get("batch_size", 500))
        interval = float(data.get("flush_interval", 0.2))
    except (TypeError, ValueError) as exc:
        raise StoreConfigError(f"store: {exc}") from exc
    if retention <= 0 or batch_size <= 0 or interval <= 0:
        raise StoreConfigError("store: retention_years, batch_size and flush_interval must be positive")
    sources = data.get("sources")
    if sources is not None and (
        not isinstance(sources, list) or not all(isinstance(x, str) and x for x in sources)
    ):
        raise StoreConfigError("store.sources: a list of call sources (asterisk, twilio, simulation)")
    return StoreSettings(
        url=str(data.get("url") or default_url(data_dir)),
        data_dir=data_dir,
        retention_years=retention,
        batch_size=batch_size,
        flush_interval=interval,
        cases=cases,
        sla_rules=sla,
        sources=tuple(sources) if sources is not None else None,
    )


def store_settings(config: HotlineConfig, url: str | None = None) -> StoreSettings:
    """The store settings of a loaded config file (`url` overrides `store.url`)."""
    base = config.path.resolve().parent if config.path is not None else None
    try:
        settings = parse_store_settings(config.section("store"), base)
    except ValueError as exc:
        raise StoreConfigError(f"{config.path}: {exc}") from exc
    if url:
        settings = replace(settings, url=url)
    from hotline.encryption import parse_encryption_settings

    try:
        raw = config.section("encryption") if "encryption" in config.sections else None
        keyring = parse_encryption_settings(raw)
    except ValueError as exc:
        raise StoreConfigError(f"{config.path}: {exc}") from exc
    return replace(settings, keyring=keyring)


def settings_for_cli(config_path: str | Path | None, url: str | None) -> StoreSettings:
    """Settings for a command line tool: the config file's `store:` section if the file exists
    (or was named explicitly), with `--url` overriding its URL."""
    from hotline.config import load_config

    if config_path is not None and Path(config_path).exists():
        from hotline.phone import set_default_region

        config = load_config(config_path)
        set_default_region(config.country)  # customers' numbers are keyed in E.164
        return store_settings(config, url)
    if url:
        return StoreSettings(url=url)
    raise StoreConfigError(f"{config_path}: no such config file; give --url or --config")
