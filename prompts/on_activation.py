"""Keep the synthesized prompts in step with the menus the server runs: every prompt of a
menu is rendered the moment that menu is activated (an admin's edit, a rollback), and those
of the menus active at start-up, off the event loop, so the first caller to reach a changed
node hears it without waiting for espeak-ng. Nothing is removed here (`hotline prompts build`
prunes files no menu uses); recorded prompts still take precedence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from ivr.menu import Menu
from ivr.registry import MenuRegistry, MenuVersion
from prompts.catalog import menu_prompts, tts_name
from prompts.render import PromptError, recorded_file, render

log = logging.getLogger(__name__)


def render_missing(menu: Menu, folder: Path) -> list[str]:
    """Render the prompts of `menu` that have neither a recording nor a synthesized file."""
    done: list[str] = []
    for p in menu_prompts(menu):
        if not p.text.strip() or (p.audio is not None and recorded_file(folder, p.audio) is not None):
            continue
        target = folder / f"{tts_name(p.language, p.text)}.wav"
        if target.is_file():
            continue
        render(p.text, p.language, target)
        done.append(f"{menu.name}: {p.where} [{p.language}]")
    return done


def render_on_activation(
    registry: MenuRegistry, folder: Path, *, active: Iterable[Menu] = ()
) -> tuple[Callable[[], None], set[asyncio.Task[None]]]:
    """Subscribe to `registry`; render `active` now. Returns the unsubscribe function and the
    renders in flight. Call from the server's loop."""
    running: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()

    async def build(menu: Menu) -> None:
        try:
            rendered = await asyncio.to_thread(render_missing, menu, folder)
        except (PromptError, OSError) as exc:
            log.warning("prompts of menu %s v%s could not be rendered: %s", menu.name, menu.version, exc)
            return
        if rendered:
            log.info("menu %s v%s: %d prompts rendered", menu.name, menu.version, len(rendered))

    def start(menu: Menu) -> None:
        task = loop.create_task(build(menu))
        running.add(task)
        task.add_done_callback(running.discard)

    def on_activate(entry: MenuVersion) -> None:
        start(entry.menu)

    for menu in active:
        start(menu)
    return registry.subscribe(on_activate), running
