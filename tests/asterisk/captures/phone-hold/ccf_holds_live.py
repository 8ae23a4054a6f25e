"""A live check, not a test: ccf serve's PhoneHolds over its own AmiLink against a real Asterisk.

Two PhoneHolds read the same events, one without the Hold and Unhold (as if the link had been
down when they came); 0.4 s after each Hold, Unhold and Hangup the second one runs the reconcile
of a reconnect, and both say which channel holds for agent zhang. Run while a run.sh call goes on:
  AMI_SECRET=... python ccf_holds_live.py PORT SECONDS DEVICES   (DEVICES: pjsip/8001 or
  local/8001@agents, zhang's interfaces, lower case, comma-separated)
"""

import asyncio
import os
import sys

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.names import interface_of_channel


async def main(port: int, seconds: float, devices: set[str]) -> None:
    def agent_of(channel: str) -> str | None:
        return "zhang" if interface_of_channel(channel).lower() in devices else None

    heard, asked = PhoneHolds(agent_of), PhoneHolds(agent_of)
    told: list[tuple[str, bool]] = []
    heard.on_hold = lambda agent, on: told.append(("events", on))
    asked.on_hold = lambda agent, on: told.append(("reconcile", on))
    link = AmiLink("127.0.0.1", port, "ccf", os.environ["AMI_SECRET"], timeout=5,
                   ping_interval=None, events="system,call,agent,user")
    checks = []

    async def check(event: str, channel: str) -> None:
        await asyncio.sleep(0.4)
        await asked.reconcile("", link)
        print(f"after {event} {channel}: the events say {heard.holding('zhang')}, "
              f"the reconcile says {asked.holding('zhang')}", flush=True)

    def on_event(message) -> None:
        heard.apply("", message)
        if message.event not in ("Hold", "Unhold"):
            asked.apply("", message)
        if message.event in ("Hold", "Unhold", "Hangup"):
            checks.append(asyncio.create_task(check(message.event, message.get("Channel"))))

    link.on_event = on_event
    await link.start()
    await asyncio.sleep(seconds)
    await asyncio.gather(*checks)
    print(told)
    await link.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), set(sys.argv[3].split(","))))
