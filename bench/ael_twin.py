"""The AEL twin of bench/compile.py's flow: the same steps written for Asterisk's aelparse.

Steps alternate as in bench/compile.py: an even step is a menu (a log line, Read with a
prompt, branches 1/2/3/0/invalid with up to 2 retries, exhausted -> closing); an odd
step is a look-up (Read of 6..10 digits with 2 retries, a database dip, a not-found
branch, the status played, goto next). Measures nothing; bench/compile.py times it.

Usage: python bench/ael_twin.py [STEPS] > extensions.ael ; then in that folder:
aelparse -n -q -d -w
"""

from __future__ import annotations

import sys


def _menu_step(i: int, last: int) -> str:
    nxt, skip, back = min(i + 1, last), min(i + 2, last), i // 2
    return (f"  // menu step {i}\n  s{i} => {{\n    NoOp(menu ${{CALLERID(num)}} at step {i});\n"
            f"    Set(TRIES=0);\n    retry:\n    Read(CHOICE,bench/step{i},1,,1,5);\n"
            f"    switch(${{CHOICE}}) {{\n      case 1:\n        goto s{nxt},1;\n"
            f"      case 2:\n        goto s{skip},1;\n      case 3:\n        goto s{back},1;\n"
            f"      case 0:\n        Queue(service,,,,120);\n        break;\n"
            f"      default:\n        Set(TRIES=$[${{TRIES}} + 1]);\n"
            f"        if (${{TRIES}} < 3) {{\n          Playback(invalid-option);\n"
            f"          goto retry;\n        }}\n"
            f"        goto closing,1;\n    }};\n  }};")


def _lookup_step(i: int, last: int) -> str:
    nxt = min(i + 1, last)
    return (f"  // look-up step {i}\n  s{i} => {{\n"
            f"    Read(ORDER_NO,bench/order-number,10,,3,10);\n"
            f"    Set(ORDER=${{ODBC_ORDER(${{ORDER_NO}})}});\n"
            f"    if (\"${{ORDER}}\" = \"\") {{\n      Playback(bench/not-found);\n"
            f"      goto s{nxt},1;\n    }}\n"
            f"    Playback(bench/status-${{ORDER}});\n    goto s{nxt},1;\n  }};")


def generate(steps: int = 2_000) -> str:
    """The extensions.ael of a flow of `steps` steps."""
    last = steps - 1
    out = ["context bench {",
           "  s => {\n    Answer();\n    Set(CUSTOMER=${ODBC_CUSTOMER(${CALLERID(num)})});\n"
           "    Playback(bench/welcome);\n    goto s0,1;\n  };",
           "  closing => {\n    Playback(goodbye);\n    Hangup();\n  };"]
    for i in range(last):
        out.append(_menu_step(i, last) if i % 2 == 0 else _lookup_step(i, last))
    out.append(f"  s{last} => {{\n    Playback(bench/last);\n    goto closing,1;\n  }};")
    out.append("};")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000))
