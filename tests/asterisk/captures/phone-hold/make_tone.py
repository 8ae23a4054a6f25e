"""Write tone.ulaw, the audio the *-audio.xml phones stream (sipp rtp_stream): 2 s of a 440 Hz
tone as raw G.711 mu-law at 8 kHz. A helper for the captures, not part of ccf."""

import math


def ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent, mask = 7, 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent, mask = exponent - 1, mask >> 1
    return ~(sign | exponent << 4 | (magnitude >> (exponent + 3)) & 0x0F) & 0xFF


if __name__ == "__main__":
    with open("tone.ulaw", "wb") as out:
        out.write(bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * n / 8000)))
                        for n in range(16000)))
