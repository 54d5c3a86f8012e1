"""`hotline export --config FILE [--out FILE] [--url URL]`: the live configuration as YAML.

The configuration file with its `queues:` and `agents:` as they are now in the case store
(edited live on the admin page) and every menu's active version written beside it
(`<out>-menus/<name>.yaml`, listed in `ivr.menus`), so that `hotline config check` and
`hotline serve` accept it as it is. Relative paths of the configuration are kept as written:
the export goes next to the configuration file unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def register(sub: Any) -> None:
    parser = sub.add_parser("export", help="write the live configuration (queues, agents, menus from the store) as YAML")
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file (the store's settings)")
    parser.add_argument("--out", help="file to write (default: <config>.live.yaml beside the configuration)")
    parser.add_argument("--url", help="database URL (default: store.url in the config)")
    parser.set_defaults(handler=run_export)


async def read_live(url: str) -> tuple[dict[tuple[str, str], Any], dict[str, str]]:
    """(kind, name) -> newest version of each queue and agent; menu name -> active text."""
    from casestore.acd_config import AcdConfigStore
    from casestore.dialect import create_engine
    from casestore.menus import MenuStore

    engine = create_engine(url)
    try:
        current = await AcdConfigStore(engine).current()
        menus = MenuStore(engine)
        texts = {name: (await menus.get(name, version)).text for name, version in (await menus.active()).items()}
    finally:
        await engine.dispose()
    return current, texts


def live_document(raw: Mapping[str, Any], current: Mapping[tuple[str, str], Any], menu_files: list[str]) -> dict[str, Any]:
    """The configuration document `raw` with the store's queues and agents (those of `raw`
    when the store has none yet) and `menu_files` as `ivr.menus` (when there are menus)."""
    from hotline.acd_config import ordered

    doc = dict(raw)
    for kind, section in (("queue", "queues"), ("agent", "agents")):
        items = [ordered(v.data) for (k, _), v in sorted(current.items()) if k == kind]
        if items:
            doc[section] = items
    if menu_files:
        doc["ivr"] = {**dict(doc.get("ivr") or {}), "menus": menu_files}
    return doc


def run_export(args: argparse.Namespace) -> int:
    from casestore import CaseStoreError, StoreConfigError
    from casestore.settings import store_settings
    from hotline.config import ConfigError, load_config, read_yaml

    path = Path(args.config)
    try:
        config = load_config(path)
        raw = read_yaml(path)
        current, menus = asyncio.run(read_live(store_settings(config, args.url).url))
    except (CaseStoreError, StoreConfigError, ConfigError, ValueError) as exc:
        print(f"hotline export: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}.live.yaml")
    folder = out.with_name(f"{out.stem}-menus")
    files = []
    if menus:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in sorted(menus.items()):
            target = folder / f"{name}.yaml"
            target.write_text(text, encoding="utf-8")
            files.append(str(target.relative_to(out.parent)) if target.is_relative_to(out.parent) else str(target))
    doc = live_document(raw, current, files)
    header = f"# Hotline's live configuration, exported from the case store of {path.name}\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    queues = sum(1 for k, _ in current if k == "queue")
    agents = sum(1 for k, _ in current if k == "agent")
    print(f"wrote {out} ({queues} queues, {agents} agents from the store; {len(files)} menus in {folder})")
    return 0
