"""compiler/item_parse.py: a file parsed item by item, its items read back from the cache
folder (where their lines moved, moved with them), gives what parsing it whole gives: every
node, every field and every span, on every .ccf of the repository and a generated flow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ccdsl.compiler import item_parse
from ccdsl.compiler.cache_store import Store
from ccdsl.compiler.test_recovery import parse_recovering
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for p in ROOT.rglob("*.ccf") if ".venv" not in p.parts)


def _generated() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from compile import generate  # bench/compile.py's flow

    return generate(40)


def same(a, b, where: str = "") -> None:
    """a and b alike in every field, spans and comments included."""
    assert type(a) is type(b), where
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
        return
    fields = getattr(type(a), "__dataclass_fields__", None)
    if fields is None or isinstance(a, tuple):
        assert a == b, where
        return
    for name in fields:
        same(getattr(a, name), getattr(b, name), f"{where}.{name}")


def texts() -> list[tuple[str, str]]:
    out = []
    for p in FILES:
        try:
            out.append((str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")))
        except UnicodeDecodeError:  # a test of reading errors: the reader refuses it
            continue
    return out + [("bench.ccf", _generated())]


@pytest.fixture(scope="module")
def clean() -> list[tuple[str, str, tuple]]:
    """The texts that parse whole without a diagnostic, with that parse."""
    out = []
    for path, text in texts():
        whole = parse_recovering(SourceFile(path, text))
        # (a text of no item, blank or comments only, is parsed whole every time)
        if whole[0] is not None and not whole[1] and not whole[2] and whole[0].items:
            out.append((path, text, whole))
    assert len(out) > 50
    return out


def test_stored_from_a_whole_parse_and_read_back_moved(clean, tmp_path) -> None:
    store = Store(str(tmp_path / "cache"))
    for path, text, whole in clean:
        first = item_parse.parse_items(SourceFile(path, text), store, parse_recovering)
        same(first, whole, path)  # nothing stored yet: parsed whole
        again = item_parse.parse_items(SourceFile(path, text), store, _no_parse)
        same(again, whole, path)
        # the first piece two lines longer, and every item after it two lines further
        moved = "# a comment\n\n" + text
        calls: list[str] = []

        def counting(source, calls=calls):
            calls.append(source.text)
            return parse_recovering(source)

        same(item_parse.parse_items(SourceFile(path, moved), store, counting),
             parse_recovering(SourceFile(path, moved)), path)
        assert len(calls) == 1, path  # the first piece, or the whole when it is most


def test_parsed_piece_by_piece(clean, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(item_parse, "_WHOLE_BEYOND", 1.0)  # never parsed whole
    store = Store(str(tmp_path / "cache"))
    for path, text, whole in clean:
        calls: list[str] = []

        def counting(source, calls=calls):
            calls.append(source.text)
            return parse_recovering(source)

        got = item_parse.parse_items(SourceFile(path, text), store, counting)
        same(got, whole, path)
        if text not in calls:  # parsed piece by piece, not whole after a piece failed
            assert len(calls) == len(item_parse.pieces(text)), path


def test_an_edit_re_parses_only_its_item(tmp_path) -> None:
    text = _generated()
    store = Store(str(tmp_path / "cache"))
    item_parse.parse_items(SourceFile("f.ccf", text), store, parse_recovering)
    edited = text.replace('at step 10"', 'at step 10, edited"\n  log "one line more"')
    calls: list[str] = []

    def counting(source):
        calls.append(source.text)
        return parse_recovering(source)

    got = item_parse.parse_items(SourceFile("f.ccf", edited), store, counting)
    assert len(calls) == 1 and calls[0].startswith("step s10:\n") and "edited" in calls[0]
    same(got, parse_recovering(SourceFile("f.ccf", edited)))


@pytest.mark.parametrize("change", [
    ("  goto closing\n", "  goto closing(\n"),  # a bracket left open
    ("step s3:\n", "step s3\n"),  # a syntax error
    ("  log \"menu", "log \"menu"),  # a statement at column 0
])
def test_what_does_not_parse_clean_is_parsed_whole(tmp_path, change) -> None:
    text = _generated()
    store = Store(str(tmp_path / "cache"))
    item_parse.parse_items(SourceFile("f.ccf", text), store, parse_recovering)
    edited = text.replace(*change)
    assert edited != text
    got = item_parse.parse_items(SourceFile("f.ccf", edited), store, parse_recovering)
    whole = parse_recovering(SourceFile("f.ccf", edited))
    same(got[0], whole[0])
    assert got[1] == whole[1] and got[2] == whole[2]


def test_pieces_cut_before_each_item_and_keep_every_line() -> None:
    text = "# lead\n\nflow a\n\nstep s:\n  hangup\n# trailing\n  \nstep t:\n  hangup\n"
    cut = item_parse.pieces(text)
    assert [line for line, _ in cut] == [1, 5, 9]
    assert "".join(piece for _, piece in cut) == text


def _no_parse(source):
    raise AssertionError(f"{source.path} parsed again")


def test_a_second_edit_re_parses_one_piece_and_reports_as_a_fresh_compile(tmp_path,
                                                                          monkeypatch) -> None:
    import ccdsl.compiler.parse_cache
    from ccdsl.compiler import pipeline
    from ccdsl.compiler.result_cache import compile_cached

    flow = tmp_path / "bench.ccf"
    text = _generated().replace("  hangup\n", "  hangup\n  play tts \"never\"\n", 1)
    flow.write_text(text, encoding="utf-8")  # with a warning (W206) to report
    store = Store(str(tmp_path / "cache"))
    calls: list[str] = []
    real = ccdsl.compiler.parse_cache.parse_recovering
    monkeypatch.setattr(ccdsl.compiler.parse_cache, "parse_recovering",
                        lambda source: calls.append(source.text) or real(source))
    for n, step in enumerate((4, 6, 8)):
        text = text.replace(f'at step {step}"', f'at step {step}, edit {n}"')
        flow.write_text(text, encoding="utf-8")
        calls.clear()
        cached = compile_cached(str(flow), lower=False, store=store)
        parsed = list(calls)
        fresh = pipeline.compile_file(str(flow), lower=False)
        assert cached.diagnostics == fresh.diagnostics and cached.diagnostics
        if n >= 2:  # the first edit after the first validate stored the pieces
            assert len(parsed) == 1 and parsed[0].startswith(f"step s{step}:")


def test_a_piece_twice_in_a_file_is_read_back_at_each_place(tmp_path) -> None:
    text = "step a:\n  hangup\n\nstep b:\n  goto a\nstep a:\n  hangup\n\n"
    store = Store(str(tmp_path / "cache"))
    for moved in (text, "\n# moved\n" + text, text + "step c:\n  hangup\n"):
        for _ in range(2):  # stored (whole, or piece by piece), then read back
            got = item_parse.parse_items(SourceFile("f.ccf", moved), store, parse_recovering)
            same(got, parse_recovering(SourceFile("f.ccf", moved)))
