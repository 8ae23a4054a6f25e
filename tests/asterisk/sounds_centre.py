"""A folder `ccf deploy` renders queue messages from: flows/hotline.ccf, a fake TTS command
and the ccf.toml naming them (the example's agents, 4008001234 to hotline); it runs nothing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# a TTS command whose WAV is as many samples long as the text has characters,
# so each file shows which text it speaks
FAKE_TTS = """\
import sys, wave
text = sys.stdin.read()
with wave.open(sys.argv[1], "wb") as out:
    out.setnchannels(1); out.setsampwidth(2); out.setframerate(8000)
    out.writeframes(b"\\0\\0" * len(text))
"""


def sounds_centre(folder: Path, hotline: str, *, ami: str = "") -> tuple[Path, Path]:
    """`hotline` (a flow's text) in folder/flows, and a ccf.toml beginning with `ami` (its
    [ami] table, or none); the flows folder and the ccf.toml's path."""
    flows = folder / "flows"
    flows.mkdir()
    (flows / "hotline.ccf").write_text(hotline, encoding="utf-8")
    tts = folder / "fake_tts.py"
    tts.write_text(FAKE_TTS, encoding="utf-8")
    config = folder / "ccf.toml"
    config.write_text(ami + textwrap.dedent(f"""\
        [paths]
        flows = "store"
        sounds = "sounds"
        tts_cache = "tts-cache"
        [tts]
        command = ["{sys.executable}", "{tts}", "{{out}}"]
        [agents]
        file = "{ROOT / 'examples' / 'iws' / 'agents.toml'}"
        [numbers]
        "4008001234" = "hotline"
        """), encoding="utf-8")
    return flows, config
