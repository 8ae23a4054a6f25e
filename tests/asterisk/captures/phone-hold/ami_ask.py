"""Log one AMI session that asks Asterisk about a phone's hold, in the captures' transcript format.

A throwaway recorder for a capture, not part of ccf (as ami_log.py, whose writer it uses): it logs
in with every event on and, 0.5 s after each Hold and Unhold and 1 s after the last Hangup, asks
what ccf serve asks after its AMI link comes back: CoreShowChannels, then `Getvar` of
`CHANNEL(onhold)` on every channel it listed (after the hang-ups, on the channels it saw).
  AMI_SECRET=... python3 ami_ask.py PORT SECONDS OUT
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from ami_log import escape


async def main(port: int, seconds: float, path: str) -> None:
    secret = os.environ["AMI_SECRET"]
    start = time.monotonic()
    log = open(path, "w", encoding="utf-8")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seen: list[str] = []
    listed: list[str] = []
    listing = asyncio.Event()
    rounds: list[asyncio.Task] = []
    action_id = 1

    def chunk(direction: str, data: bytes) -> None:
        log.write(f"## [+{time.monotonic() - start:.4f} s] {direction} {len(data)} bytes\n")
        for line in escape(data):
            log.write(f"{direction} {line}\n")
        log.flush()

    def send(text: str) -> None:
        writer.write(text.encode())
        chunk(">>", text.replace(secret, "*" * len(secret)).encode())

    def action(name: str, **headers: str) -> None:
        nonlocal action_id
        action_id += 1
        send(f"Action: {name}\r\nActionID: {action_id}\r\n"
             + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")

    async def ask(after: float, gone: bool) -> None:
        await asyncio.sleep(after)
        listed.clear()
        listing.clear()
        action("CoreShowChannels")
        await asyncio.wait_for(listing.wait(), 5)
        for name in (seen if gone else list(listed)):
            action("Getvar", Channel=name, Variable="CHANNEL(onhold)")

    def on_message(block: str) -> None:
        headers = dict(line.split(": ", 1) for line in block.split("\r\n") if ": " in line)
        event = headers.get("Event")
        channel = headers.get("Channel", "")
        if event == "Newchannel" and channel not in seen:
            seen.append(channel)
        elif event == "CoreShowChannel":
            listed.append(channel)
        elif event == "CoreShowChannelsComplete":
            listing.set()
        elif event in ("Hold", "Unhold"):
            rounds.append(asyncio.create_task(ask(0.5, False)))
        elif event == "Hangup" and channel == seen[0]:
            rounds.append(asyncio.create_task(ask(1.0, True)))

    async def read() -> None:
        pending = b""
        while data := await reader.read(65536):
            chunk("<<", data)
            pending += data
            *blocks, pending = pending.split(b"\r\n\r\n")
            for block in blocks:
                on_message(block.decode(errors="replace"))

    task = asyncio.create_task(read())
    send("Action: Login\r\nActionID: 1\r\nUsername: ccf\r\n"
         f"Secret: {secret}\r\nEvents: on\r\n\r\n")
    await asyncio.sleep(seconds)
    send(f"Action: Logoff\r\nActionID: {action_id + 1}\r\n\r\n")
    await asyncio.wait_for(task, 5)
    log.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]))
