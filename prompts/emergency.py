"""Render a supervisor's emergency announcement the moment it is switched on, in each
language it was typed in, so Asterisk callers reaching the emergency node hear it at once
(the channel would otherwise render it when the first caller gets there)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ivr.emergency import Emergency, EmergencyState
from prompts.render import PromptError, render_now

log = logging.getLogger(__name__)


def render_announcements(state: EmergencyState, folder: Path) -> tuple[Callable[[], None], set[asyncio.Task[None]]]:
    """Subscribe to `state`; returns the unsubscribe function and the set of running renders."""
    running: set[asyncio.Task[None]] = set()

    async def render(language: str, text: str) -> None:
        try:
            await render_now(folder, language, text)
        except (PromptError, OSError) as exc:
            log.warning("emergency announcement (%s) could not be rendered: %s", language, exc)

    def on_change(emergency: Emergency) -> None:
        if not emergency.active:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # switched on outside the server's loop: the channel renders it
            return
        for language, text in emergency.announcement.items():
            if text.strip():
                task = loop.create_task(render(language, text))
                running.add(task)
                task.add_done_callback(running.discard)

    return state.subscribe(on_change), running
