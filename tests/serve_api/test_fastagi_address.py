"""The workers table's FastAGI `address` is one Asterisk could dial, as the `api` column is: a
worker bound to every address names this machine and its port, not 0.0.0.0, and an IPv6
address is in brackets. `ccf status` and the console show the row as written."""

from __future__ import annotations

import asyncio

import pytest

from ccdsl.runtime.asterisk.api_advertise import this_machine
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations.workers import list_workers

from .test_two_workers import two_workers


def _row_address(config, host: str) -> tuple[str, int]:
    async def main():
        worker = LiveCentre(config, host=host, port=0, use_ami=False)
        try:
            _, port = await worker.start()
        finally:
            await worker.stop(1.0)
        return port

    port = asyncio.run(main())
    [row] = list_workers(config.store_path)
    return row.address, port


@pytest.mark.parametrize(("bound", "shown"), [
    ("0.0.0.0", lambda port: f"{this_machine()}:{port}"),
    ("::", lambda port: f"{this_machine()}:{port}"),
    ("::1", lambda port: f"[::1]:{port}"),
    ("127.0.0.1", lambda port: f"127.0.0.1:{port}"),
])
def test_the_fastagi_address_is_one_asterisk_can_dial(tmp_path, monkeypatch, bound,
                                                       shown) -> None:
    config, _ = two_workers(tmp_path, monkeypatch, str(tmp_path / "calls.db"))
    address, port = _row_address(config, bound)
    assert address == shown(port)
