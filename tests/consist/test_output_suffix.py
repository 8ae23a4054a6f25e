"""`-o FILE` without `--format`: the file's suffix chooses what `ccf graph` and `ccf report`
write (one helper, cli/output_format.py), and a suffix the command cannot write is refused
naming the ones it can, never a file of another format under that name."""

from __future__ import annotations

import json

import pytest
from ccf_cli import ccf


def test_graph_png_is_a_png(tmp_path, welcome_flow):
    out = tmp_path / "h.png"
    result = ccf("graph", str(welcome_flow), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("suffix", "start"), [(".svg", "<svg"), (".html", "<!DOCTYPE html"),
                                               (".dot", "digraph"), (".mmd", "flowchart")])
def test_graph_suffixes_choose_the_format(tmp_path, welcome_flow, suffix, start):
    out = tmp_path / f"h{suffix}"
    result = ccf("graph", str(welcome_flow), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert start in out.read_text(encoding="utf-8")[:400]


def test_graph_refuses_a_suffix_it_cannot_write(tmp_path, welcome_flow):
    out = tmp_path / "h.pdf"
    result = ccf("graph", str(welcome_flow), "-o", str(out))
    assert result.exit_code == 2
    assert "cannot write .pdf" in result.output
    for suffix in (".dot", ".svg", ".png", ".mmd", ".html"):
        assert suffix in result.output
    assert not out.exists()


def test_graph_format_given_wins_over_the_suffix(tmp_path, welcome_flow):
    out = tmp_path / "h.txt"
    result = ccf("graph", str(welcome_flow), "-f", "dot", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("digraph")


def test_graph_png_needs_a_file(welcome_flow):
    result = ccf("graph", str(welcome_flow), "-f", "png")
    assert result.exit_code == 2
    assert "-o FILE" in result.output


def test_report_html_csv_json_and_text_by_suffix(tmp_path, simulated_store):
    for name in ("r.html", "r.csv", "r.json", "r.txt"):
        result = ccf("report", "--store", str(simulated_store), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE")
    assert "# summary" in (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert "zone" in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    text = (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert not text.lstrip().startswith(("<", "{", "#"))


def test_report_refuses_a_suffix_it_cannot_write(tmp_path, simulated_store):
    out = tmp_path / "r.pdf"
    result = ccf("report", "--store", str(simulated_store), "-o", str(out))
    assert result.exit_code == 2
    assert "cannot write .pdf" in result.output
    for suffix in (".txt", ".csv", ".json", ".html"):
        assert suffix in result.output
    assert not out.exists()
