"""A flow whose call never ends by itself, for the tests of how `ccf test` says a call the
simulator ended at its longest was cut off; it asserts nothing."""

from __future__ import annotations

from pathlib import Path

from ccf_cli import ccf

# what a test's failure says of a call the simulator ended at its longest
CUT_OFF = ("the flow did not hang up; the call was still going after 2 hours, the longest a "
           "test's call runs, and was ended there as if the caller hung up")


def round_and_round(tests: str, *, pressed: str = "hangup", steps: str = "") -> str:
    """flow loop: the caller never presses a key, so its menu gives up and the step goes
    round again. 1 (never pressed) does `pressed`; `steps` and `tests` follow."""
    return f"""flow loop:
  languages en-US

prompt hi:
  en-US tts "Hi."

on start:
  answer
  goto again

step again:
  menu retries 1 timeout 5s:
    prompt hi
    1 -> {pressed}
    timeout, invalid -> play hi
    exhausted -> goto again
  goto again
{steps}
{tests}"""


def run_loop(folder: Path, monkeypatch, flow: str, *args: str):
    """`ccf test loop.ccf --format json ARGS` in `folder`, with `flow` as loop.ccf."""
    (folder / "loop.ccf").write_text(flow, encoding="utf-8")
    monkeypatch.chdir(folder)
    return ccf("test", "loop.ccf", "--format", "json", *args)
