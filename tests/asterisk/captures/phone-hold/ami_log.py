"""Log one AMI session verbatim, in the captures' transcript format (README "Transcript format").

A throwaway recorder for a capture, not part of ccf: it logs in with every event on, writes each
TCP read and write as a chunk, and logs off after the given seconds. The secret comes from
$AMI_SECRET and is written as asterisks of its length, so the byte counts still hold.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time


def escape(data: bytes) -> list[str]:
    pieces = data.split(b"\n")
    lines = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    out = []
    for piece in lines:
        text = ""
        for byte in piece:
            ch = chr(byte)
            if ch == "\r":
                text += "\\r"
            elif ch == "\n":
                text += "\\n"
            elif ch == "\t":
                text += "\\t"
            elif ch == "\\":
                text += "\\\\"
            elif 32 <= byte < 127:
                text += ch
            else:
                text += f"\\x{byte:02x}"
        out.append(text)
    return out


async def main(port: int, seconds: float, path: str) -> None:
    secret = os.environ["AMI_SECRET"]
    start = time.monotonic()
    log = open(path, "w", encoding="utf-8")

    def chunk(direction: str, data: bytes) -> None:
        log.write(f"## [+{time.monotonic() - start:.4f} s] {direction} {len(data)} bytes\n")
        for line in escape(data):
            log.write(f"{direction} {line}\n")
        log.flush()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def read() -> None:
        while data := await reader.read(65536):
            chunk("<<", data)

    task = asyncio.create_task(read())
    login = ("Action: Login\r\nActionID: 1\r\nUsername: ccf\r\n"
             f"Secret: {secret}\r\nEvents: on\r\n\r\n")
    writer.write(login.encode())
    chunk(">>", login.replace(secret, "*" * len(secret)).encode())
    await asyncio.sleep(seconds)
    logoff = b"Action: Logoff\r\nActionID: 2\r\n\r\n"
    writer.write(logoff)
    chunk(">>", logoff)
    await asyncio.wait_for(task, 5)
    log.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]))
