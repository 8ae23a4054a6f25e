"""Writes the RFC 2833 key presses of one sipp caller: key N of the call is sipp's
dtmf_2833_1.pcap with the event made the key's (`#` is 11, `*` 10) and the RTP timestamp and
sequence moved on by N. sipp's pcaps all carry the same timestamp, and Asterisk takes an event
with the timestamp of the one before for that same press: of "20261101" typed from them only
the first `2` and the `6` arrived.
  python3 make_dtmf.py PREFIX KEYS   -> PREFIX-0.pcap, PREFIX-1.pcap, ..."""
import struct
import sys

SRC = "/usr/share/sip-tester/dtmf_2833_1.pcap"
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def press(key: str, index: int) -> bytes:
    data = bytearray(open(SRC, "rb").read())
    off = 24  # pcap global header
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        rtp = off + 16 + 14 + 20 + 8  # record header, Ethernet, IPv4, UDP
        seq, stamp = struct.unpack(">HI", data[rtp + 2:rtp + 8])
        struct.pack_into(">HI", data, rtp + 2, (seq + 100 * (index + 1)) & 0xFFFF,
                         (stamp + 16000 * (index + 1)) & 0xFFFFFFFF)
        data[rtp + 12] = EVENTS[key]
        off += 16 + incl
    return bytes(data)


def main(prefix: str, keys: str) -> None:
    for index, key in enumerate(keys):
        open(f"{prefix}-{index}.pcap", "wb").write(press(key, index))


if __name__ == "__main__":
    main(*sys.argv[1:])
