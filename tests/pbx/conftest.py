"""Fixtures of the real-PBX suite: the Asterisk build (once per run) and one world per module.

A machine with neither the sources nor an installed Asterisk fails here with the message of
tools/pbx/build.sh naming what to provide (ASTERISK_PREFIX, ASTERISK_TARBALL or
HOTLINE_ASTERISK_SOURCES): the suite is never skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.pbx.asterisk_proc import BuildFailed, build_asterisk
from tests.pbx.world import World


@pytest.fixture(scope="session")
def asterisk_prefix() -> Path:
    try:
        return build_asterisk()
    except BuildFailed as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(asterisk_prefix: Path) -> AsyncIterator[World]:
    run = Path(tempfile.mkdtemp(prefix="hlpbx-", dir="/tmp"))  # short: the control socket path
    w = World(asterisk_prefix, run)
    try:
        await w.start()
        yield w
    finally:
        await w.stop()
        if not os.environ.get("HOTLINE_PBX_KEEP"):  # keep the logs of a run to read them
            shutil.rmtree(run, ignore_errors=True)
