"""400 seeded random mutations of the example flows and the standard library, each
through `ccf validate` and `ccf compile` in process: never an internal error.

Each mutant is written into a private copy of its folder and checked as the
CLI checks it, with the entry flows that use it: a mutated module is
compiled through the flow that `use`s it (issue 11, item 8: 102 of 400
mutants of examples/iws crashed there). A standard-library module is copied
beside a scenario flow of tests/scenarios whose `use stdlib.NAME` is
pointed at the copy. The seed is fixed, so a failure names a mutant that
fails again; a hypothesis property follows for variety.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
import typer.testing
from ccf_cli import ccf
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ccdsl.cli.main import app
from ccdsl.compiler import ir_schema, loader, test_recovery
from ccdsl.compiler.grammar import grammar_text

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261206
MUTANTS = 400
TEST_SUFFIX = loader.TEST_SUFFIX


@dataclass(frozen=True)
class Target:
    file: Path  # the file that is mutated, in the private copy
    entries: tuple[Path, ...]  # the flows `ccf validate` and `ccf compile` are given
    original: str

    @property
    def name(self) -> str:
        return f"{self.file.parent.name}/{self.file.name}"


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ccf") if not p.name.endswith(TEST_SUFFIX))


def _example_targets(copy: Path) -> list[Target]:
    targets = []
    for folder in sorted({p.parent for p in (ROOT / "examples").rglob("*.ccf")}):
        mirror = copy / folder.relative_to(ROOT)
        shutil.copytree(folder, mirror, ignore=shutil.ignore_patterns("crm"))
        for path in sorted(mirror.glob("*.ccf")):
            targets.append(Target(path, tuple(_entries(mirror)), path.read_text("utf-8")))
    return targets


def _stdlib_targets(copy: Path) -> list[Target]:
    """Each library module as a sibling of the first scenario that uses it."""
    targets = []
    scenarios = sorted((ROOT / "tests" / "scenarios").glob("*.ccf"))
    for module in sorted((ROOT / "stdlib_flows").glob("*.ccf")):
        name = module.stem
        user = next((s for s in scenarios
                     if re.search(rf"^use stdlib\.{name}\b", s.read_text("utf-8"), re.M)), None)
        folder = copy / "stdlib" / name
        (folder / "lib").mkdir(parents=True)
        shutil.copy(module, folder / "lib" / module.name)
        entries = [folder / "lib" / module.name]
        if user is not None:
            text = re.sub(rf"\bstdlib\.{name}\b", f"lib.{name}", user.read_text("utf-8"))
            (folder / user.name).write_text(text, encoding="utf-8")
            entries.insert(0, folder / user.name)
        path = folder / "lib" / module.name
        targets.append(Target(path, tuple(entries), path.read_text("utf-8")))
    return targets


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> list[Target]:
    copy = tmp_path_factory.mktemp("mutants")
    return _example_targets(copy) + _stdlib_targets(copy)


def _where_ignored(value):
    """The IR with every location's line and column as 1 when they are
    what the schema asks of them (integers from 1), and nothing else changed."""
    if isinstance(value, list):
        return [_where_ignored(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"file", "line", "column"} and all(
            type(value[k]) is int and value[k] >= 1 for k in ("line", "column")):
        return {**value, "line": 1, "column": 1}
    return {k: _where_ignored(v) for k, v in value.items()}


@pytest.fixture(scope="module")
def done_once():
    """Parse each distinct file text once, check each IR against the schema
    once whatever lines it points at, and build the `ccf` command once.

    Only the time changes; each mutant still runs the commands' code from the
    top. Parsing is a pure function of the text (its AST and diagnostics are
    immutable), and the unchanged modules a mutant uses are the same every
    time. Most mutants that compile differ from another only in their line
    numbers, which the schema asks only to be integers from 1, and checking
    an IR is most of `ccf compile`'s time. Typer builds the click command
    anew on every CliRunner.invoke."""
    command = typer.main.get_command(app)
    parsed: dict = {}
    real_parse = test_recovery.parse_source  # the loader parses through test_recovery

    def parse(source):
        key = (source.path, source.text)
        if key not in parsed:
            module, diags = real_parse(source)
            parsed[key] = (module, tuple(diags))
        module, diags = parsed[key]
        return module, list(diags)

    checked: dict = {}
    real_validate = ir_schema.validate_ir

    def validate(ir):
        key = json.dumps(_where_ignored(ir), sort_keys=True)
        if key not in checked:
            checked[key] = real_validate(ir)
        return list(checked[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda _app: command)
        patch.setattr(test_recovery, "parse_source", parse)
        patch.setattr(ir_schema, "validate_ir", validate)
        yield


# ---- the mutations ------------------------------------------------------------------

KEYWORDS = sorted(set(re.findall(r'"([a-z_]+)"', grammar_text())))
PIECES = KEYWORDS + [
    ":", "->", "=", "==", "(", ")", "[", "]", "{", "}", ",", ".", "..", "?", "??", "+", "-",
    "*", "/", "%", "#", '"', '"${x}"', "${", "}", "\\", "1", "5s", "09:00", "2026-10-01",
    " ", "  ", "\t", "\n", "\n  ", "\n    ", "x", "order", "stdlib.voicemail", "\x00", "中"]
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\d[\d.:-]*[a-z]*|\S')


def _lines(text: str, rng: random.Random, change) -> str:
    lines = text.split("\n")
    change(lines, rng.randrange(len(lines)), rng)
    return "\n".join(lines)


def _token(text: str, rng: random.Random) -> re.Match | None:
    tokens = list(TOKEN.finditer(text))
    return rng.choice(tokens) if tokens else None


def _delete_token(text: str, rng: random.Random) -> str:
    found = _token(text, rng)
    return text if found is None else text[:found.start()] + text[found.end():]


def _insert_token(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(PIECES) + text[i:]


def _swap_tokens(text: str, rng: random.Random) -> str:
    tokens = list(TOKEN.finditer(text))
    if len(tokens) < 2:
        return text
    i = rng.randrange(len(tokens) - 1)
    a, b = tokens[i], tokens[i + 1]
    return text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]


def _insert_chars(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    extra = "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000)]))
                    for _ in range(rng.randint(1, 4)))
    return text[:i] + extra + text[i:]


def _delete_chars(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + text[i + rng.randint(1, 20):]


def _truncate(text: str, rng: random.Random) -> str:
    return text[:rng.randrange(len(text) + 1)]


def _drop_line(lines: list[str], i: int, rng: random.Random) -> None:
    del lines[i]


def _duplicate_line(lines: list[str], i: int, rng: random.Random) -> None:
    lines.insert(i, lines[i])


def _swap_lines(lines: list[str], i: int, rng: random.Random) -> None:
    j = rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]


def _reindent(lines: list[str], i: int, rng: random.Random) -> None:
    lines[i] = " " * rng.choice([0, 1, 2, 3, 4, 6, 8]) + lines[i].lstrip(" \t")


def _tab_indent(lines: list[str], i: int, rng: random.Random) -> None:
    lines[i] = "\t" + lines[i]


MUTATIONS = {
    "delete a line": lambda t, r: _lines(t, r, _drop_line),
    "duplicate a line": lambda t, r: _lines(t, r, _duplicate_line),
    "swap two lines": lambda t, r: _lines(t, r, _swap_lines),
    "change a line's indentation": lambda t, r: _lines(t, r, _reindent),
    "indent a line with a tab": lambda t, r: _lines(t, r, _tab_indent),
    "delete characters": _delete_chars,
    "insert characters": _insert_chars,
    "delete a token": _delete_token,
    "insert a token": _insert_token,
    "swap two tokens": _swap_tokens,
    "truncate": _truncate,
}


def mutate(text: str, rng: random.Random) -> tuple[str, list[str]]:
    done = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(MUTATIONS))
        text = MUTATIONS[name](text, rng)
        done.append(name)
    return text, done


# ---- running a mutant ----------------------------------------------------------------------


def check_mutant(target: Target, text: str) -> dict[str, int]:
    """`ccf validate` and `ccf compile` of the mutant's entries, in
    process; ccf_cli.ccf fails on an internal error, a traceback or an
    exception. Returns each command's exit status."""
    target.file.write_text(text, encoding="utf-8", newline="")
    try:
        statuses = {}
        checked = ccf("validate", "--format", "json", *map(str, target.entries))
        assert checked.exit_code in (0, 1), checked.output
        json.loads(checked.stdout)
        statuses["validate"] = checked.exit_code
        for entry in target.entries:
            out = entry.with_suffix(".ir.json")
            compiled = ccf("compile", "--format", "concise", str(entry), "-o", str(out))
            assert compiled.exit_code in (0, 1), compiled.output
            if compiled.exit_code == 0:
                json.loads(out.read_text("utf-8"))
                out.unlink()
            statuses[f"compile {entry.name}"] = compiled.exit_code
        return statuses
    finally:
        target.file.write_text(target.original, encoding="utf-8", newline="")


def test_the_corpus_compiles_unmutated(targets: list[Target], done_once) -> None:
    # so a mutant's errors are the mutation's
    names = {t.name for t in targets}
    assert {"iws/hotline.ccf", "iws/orders.ccf", "iws/hotline.test.ccf",
            "lib/voicemail.ccf"} <= names
    for target in targets:
        assert set(check_mutant(target, target.original).values()) == {0}, target.name


def test_400_seeded_mutants_never_crash_validate_or_compile(
        targets: list[Target], done_once) -> None:
    rng = random.Random(SEED)
    failures = []
    outcomes = {0: 0, 1: 0}
    for number in range(MUTANTS):
        target = rng.choice(targets)
        text, done = mutate(target.original, rng)
        try:
            statuses = check_mutant(target, text)
        except Exception as exc:  # every failing mutant is listed, not only the first
            failures.append(f"mutant {number} of {target.name} ({', '.join(done)}): "
                            f"{type(exc).__name__}: {str(exc)[:300]}")
            continue
        outcomes[max(statuses.values())] += 1
    assert not failures, f"{len(failures)} of {MUTANTS} mutants failed:\n" + \
        "\n".join(failures[:10])
    # the mutants reach the checks and the lowering, not only the parser
    assert outcomes[0] >= MUTANTS // 10 and outcomes[1] >= MUTANTS // 2, outcomes


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_modules_never_crash_the_flows_using_them(
        targets: list[Target], done_once, data) -> None:
    target = data.draw(st.sampled_from([t for t in targets if len(t.entries) > 1]))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    text, done = mutate(target.original, rng)
    note(f"{target.name} after {', '.join(done)}:\n{text}")
    check_mutant(target, text)
