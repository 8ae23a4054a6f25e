"""The Dial() options ccf serve gives a transfer: f() the caller id the called party is
shown, A() the announcement it hears on answering (apps/app_dial.c, Asterisk 22).

Pure text from checked values: must not send commands.
"""

from __future__ import annotations

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.agi_media import SAFE_PATH

# A blind transfer's options, set on the caller's channel: the transfer
# context's Dial(device,,${CCF_TRANSFER_DIAL}) reads it when the AGI ends
TRANSFER_DIAL_VARIABLE = "CCF_TRANSFER_DIAL"


def transfer_options(caller_id: str | None, announce_file: str | None) -> str:
    """`f(<number>)` when a caller id is given (app_dial's OPT_FORCECLID: the
    connected line sent to the called party, the caller's own caller id
    untouched), `A(<file>)` when an announcement is (OPT_ANNOUNCE: streamed
    to the called party once it answers, before the bridge). The number is
    names.diallable's; the file a STREAM FILE name of SAFE_PATH characters,
    so neither can hold `)`, `,`, `:` (A's caller part) or `$`.
    UnsafeValue otherwise."""
    options = ""
    if caller_id:
        options += f"f({names.diallable(caller_id)})"
    if announce_file:
        if not SAFE_PATH.fullmatch(announce_file):
            raise names.UnsafeValue(f"the announcement file {announce_file!r} cannot be "
                                    "given to Dial()")
        options += f"A({announce_file})"
    return options
