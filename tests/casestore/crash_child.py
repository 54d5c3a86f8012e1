"""Child process for the crash-recovery test: writes an endless overlapping call stream
through the writer and prints `flushed <completed calls>` after every flush, until killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from casestore import StoreSettings, open_store
from tests.casestore.traffic import OVERLAP, make_acd, overlapping_step


async def main(url: str, data_dir: str) -> None:
    async with open_store(StoreSettings(url=url, data_dir=Path(data_dir))) as store:
        writer = store.writer(batch_size=25, flush_interval=0.01)
        await writer.start()
        acd, clock = make_acd(agents=OVERLAP + 1)
        acd.subscribe(writer.on_event)
        reported = 0
        i = 0
        while True:
            overlapping_step(acd, clock, i)
            i += 1
            await asyncio.sleep(0)
            if writer.stats.batches != reported:
                reported = writer.stats.batches
                print(f"flushed {writer.stats.calls_completed}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
