"""`ccf graph` end to end: hostile text escaped in DOT, Mermaid and HTML, the SVG from
Graphviz's real dot, the message when dot is missing, and `ccf report --graph`."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(ROOT / "examples" / "iws" / "hotline.ccf")
HOSTILE = r'''flow hostile:
  title "<script>alert(1)</script> \"q\" {b} [c] |d| `e` #f &g; \\ h\nnext line"
  languages en-US

on start:
  answer
  match caller.number:
    "}\"];<script>" -> hangup
    else -> goto 菜单

step 菜单:
  menu retries 2 timeout 5s:
    prompt tts "Say \"<b>hi</b>\" {x} \\N"
    1 -> transfer number "<img src=x onerror=alert(1)>\"" on error -> hangup
    timeout, invalid -> play tts "Sorry."
    exhausted -> hangup
'''


def _hostile(tmp_path) -> str:
    path = tmp_path / "hostile.ccf"
    path.write_text(HOSTILE, encoding="utf-8")
    assert ccf("validate", str(path)).exit_code == 0
    return str(path)


def test_dot_keeps_hostile_text_inside_its_strings(tmp_path) -> None:
    dot = ccf("graph", _hostile(tmp_path)).stdout
    svg = shutil.which("dot")
    assert svg, "Graphviz's dot is missing: make test-deps installs graphviz"
    import subprocess

    done = subprocess.run([svg, "-Tsvg"], input=dot.encode(), capture_output=True, check=True)
    tree = ET.fromstring(done.stdout)  # dot parsed it, and its SVG is well-formed XML
    texts = " ".join(t.text or "" for t in tree.iter("{http://www.w3.org/2000/svg}text"))
    # the title as written in the source, escapes and all, on one line
    assert r'<script>alert(1)</script> \"q\" {b} [c] |d| `e` #f &g; \\ h\nnext line' in texts
    assert '"}\\"];<script>"' in texts  # a match pattern on an arrow
    assert '"<img src=x onerror=alert(1)>\\""' in texts or "<img src=x" in texts
    assert "菜单" in texts
    assert "<script>" not in done.stdout.decode()  # escaped as XML, never markup


def test_mermaid_turns_hostile_characters_into_entities(tmp_path) -> None:
    text = ccf("graph", _hostile(tmp_path), "--format", "mermaid").stdout
    body = text.split("---", 2)[2]
    assert "<script" not in body and "<img" not in body
    for line in body.splitlines():  # a label's quotes are balanced: text never ends one
        assert line.count('"') % 2 == 0, line
    assert "#lt;script#gt;" in body
    # the title is a YAML (JSON) string: read back whole, never ending early
    title = json.loads(text.splitlines()[1].removeprefix("title: "))
    assert title.startswith("hostile: <script>alert(1)</script>") and title.endswith("line")


def test_html_page_escapes_and_inlines_the_svg(tmp_path) -> None:
    out = tmp_path / "hostile.html"
    result = ccf("graph", _hostile(tmp_path), "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert 'name="viewport"' in page and "<svg" in page
    assert not re.search(r"(src|href)=\"https?:", page)  # nothing fetched


def test_svg_is_drawn_by_dot(tmp_path) -> None:
    out = tmp_path / "hotline.svg"
    assert ccf("graph", HOTLINE, "-o", str(out)).exit_code == 0  # svg from the suffix
    tree = ET.parse(out)
    texts = [t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")]
    assert "main_menu" in texts and "to_service" in texts and "on start" in texts


def test_without_dot_svg_names_the_package(tmp_path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    for fmt in ("svg", "html"):
        result = ccf("graph", HOTLINE, "--format", fmt, env={"PATH": str(empty)})
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and "graphviz" in result.stderr
    # dot and mermaid need no Graphviz
    assert ccf("graph", HOTLINE, env={"PATH": str(empty)}).exit_code == 0


def test_a_broken_test_does_not_stop_the_flow_being_drawn(tmp_path) -> None:
    flow = tmp_path / "desk.ccf"
    flow.write_text("flow desk:\n  languages en-US\n\non start:\n  answer\n  goto bye\n\n"
                    "step bye:\n  hangup\n", encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(
        'test "li answers":\n  call from "+8613900000000"\n  expect answered by li\n',
        encoding="utf-8")
    result = ccf("graph", str(flow))
    assert result.exit_code == 0, result.stderr
    assert "error[E303]" in result.stderr
    assert "note: the errors are in test blocks: drawing the flow without them" in result.stderr
    assert '"bye"' in result.stdout or "bye" in result.stdout


def test_a_flow_with_errors_is_not_drawn(tmp_path) -> None:
    bad = tmp_path / "bad.ccf"
    bad.write_text("flow bad\n\non start:\n  goto nowhere\n", encoding="utf-8")
    result = ccf("graph", str(bad))
    assert result.exit_code == 1 and result.stdout == ""
    assert "has errors" in result.stderr
    assert ccf("graph", str(tmp_path / "none.ccf")).exit_code == 2


def test_report_embeds_the_graph_in_html_only(tmp_path) -> None:
    store = tmp_path / "calls.db"
    assert ccf("simulate", HOTLINE, "--store", str(store), "--at",
               "2026-11-30 10:00 Asia/Shanghai", "--press", "0 5").exit_code == 0
    out = tmp_path / "report.html"
    result = ccf("report", "--store", str(store), "--format", "html", "-o", str(out),
                 "--graph", HOTLINE)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    section = page[page.index('id="flow-hotline"'):]
    assert "Flow hotline" in section and "<svg" in section and "1 call" in section
    refused = ccf("report", "--store", str(store), "--graph", HOTLINE)
    assert refused.exit_code == 2 and "--format html" in refused.stderr
    assert os.path.exists(store)


def test_report_graph_follows_the_reports_queue_filter_and_says_so(tmp_path) -> None:
    store = tmp_path / "calls.db"
    for at, press in (("10:00", "0 5"), ("10:10", "2 4"), ("10:20", "2 4")):
        assert ccf("simulate", HOTLINE, "--store", str(store), "--at",
                   f"2026-11-30 {at} Asia/Shanghai", "--press", press).exit_code == 0
    out = tmp_path / "report.html"
    result = ccf("report", "--store", str(store), "--format", "html", "-o", str(out),
                 "--queue", "support", "--graph", HOTLINE)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    section = page[page.index('id="flow-hotline"'):]
    # the two calls through tech support's queue, not the one that went to service
    assert ("Traffic: 2 calls that joined queue support, from 2026-11-30 10:10 to "
            "2026-11-30 10:20 Asia/Shanghai.") in section
    on_start = re.search(r'xlink:title="on start \(handler\)[^"]*">.*?</a>', section, re.S)
    assert on_start is not None and ">2 calls<" in on_start.group(0)


def test_a_flow_on_standard_input_is_drawn_as_the_file_named(tmp_path) -> None:
    text = Path(HOTLINE).read_text(encoding="utf-8")
    # --stdin-filename: the modules it uses are found beside it, its lines named after it
    drawn = ccf("graph", "-", "--stdin-filename", HOTLINE, input=text)
    assert drawn.exit_code == 0, drawn.output
    assert drawn.stdout == ccf("graph", HOTLINE).stdout
    broken = ccf("graph", "-", "--stdin-filename", "mine.ccf", input="flow x:\n  nonsense\n")
    assert broken.exit_code == 1 and "mine.ccf:2" in broken.stderr
    alone = ccf("graph", HOTLINE, "--stdin-filename", "x.ccf")
    assert alone.exit_code == 2 and "give `-`" in alone.stderr
