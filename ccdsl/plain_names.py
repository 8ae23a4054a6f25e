"""A flow's names made plain for the phone system: one spelling of a queue's Asterisk name
and of a prompt's sound file, shared by the deployment and the reports that read
Asterisk's events back; must import nothing of ccdsl."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sound_part(name: str) -> str:
    """A plain name made from a qualified name (a prompt's file, a queue):
    characters outside [A-Za-z0-9_-] become `_` (`orders.still_busy` ->
    `orders_still_busy`), and a name in another script is spelt in Punycode
    after `xn--` (`稍候` -> `xn--...`), as domain names are: plain ASCII
    still, and two such names never meet (an ASCII name has no `-`)."""
    if name.isascii():
        return _UNSAFE.sub("_", name)
    return "xn--" + _UNSAFE.sub("_", name.replace(".", "_").encode("punycode").decode("ascii"))


def queue_name(qualified: str) -> str:
    """The Asterisk queue of an IR queue: `ccf-` + its qualified name made
    plain by sound_part (`support.vip` -> `ccf-support_vip`, `售后` ->
    `ccf-xn--...`), so queues.conf and the Queue() argument stay plain."""
    return "ccf-" + sound_part(qualified)
