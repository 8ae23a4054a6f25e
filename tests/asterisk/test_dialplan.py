"""The generated extensions_ccf.conf and queues_ccf.conf: golden files for
the IWS centre, the queue settings the simulator assumes, no static members,
determinism, and flows or config that cannot make a dialplan.

CCF_UPDATE_GOLDEN=1 rewrites the golden files from the current output."""

from __future__ import annotations

import math
import os
import re
import textwrap
from pathlib import Path

import pytest

import ccdsl.runtime.sim.centre as sim_centre
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.dialplan import (
    EXTENSIONS_FILE,
    QUEUES_FILE,
    DialplanError,
    dialplan_files,
    render_dialplan,
)
from ccdsl.runtime.asterisk.flowstore import Bundle
from ccdsl.runtime.core.queues import queue_configs

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden")
EXAMPLE = ROOT / "examples" / "iws" / "ccf.toml"


def compile_ir(path: Path) -> dict:
    from ccdsl.compiler.pipeline import compile_file

    result = compile_file(str(path))
    assert result.ir is not None, result.diagnostics
    return result.ir


@pytest.fixture(scope="module")
def hotline() -> dict:
    return compile_ir(ROOT / "examples" / "iws" / "hotline.ccf")


@pytest.fixture(scope="module")
def sales(tmp_path_factory) -> dict:
    """A flow whose queue lives in a module and sets every option."""
    folder = tmp_path_factory.mktemp("sales")
    (folder / "mod.ccf").write_text(textwrap.dedent("""\
        flow mod:
          languages en-US

        queue sales:
          skills {general: 5, "en-US": 6}
          strategy "ringall"
          autopause "all"
          ring 20500ms
          max_wait 60s
          announce_position every 45s
          music "jazz"

        sub go():
          queue sales
        """), encoding="utf-8")
    (folder / "main.ccf").write_text(textwrap.dedent("""\
        flow main:
          languages en-US

        use mod

        on start:
          answer
          mod.go()
          hangup
        """), encoding="utf-8")
    return compile_ir(folder / "main.ccf")


def bundle(flows: dict, numbers: dict) -> Bundle:
    return Bundle(version="test", flows=flows, numbers=numbers)


def config_at(tmp_path: Path, text: str):
    path = tmp_path / "ccf.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, environ={})


@pytest.mark.parametrize("name", [EXTENSIONS_FILE, QUEUES_FILE])
def test_iws_golden(hotline, name):
    config = load_config(EXAMPLE, environ={})
    text = render_dialplan(config, bundle({"hotline": hotline}, config.numbers))[name]
    # the queue messages are named by their absolute path: the checkout's own
    text = text.replace(os.path.abspath(config.sounds_dir), "<sounds>")
    golden = GOLDEN / name
    if os.environ.get("CCF_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_output_is_deterministic(hotline, sales):
    config = load_config(EXAMPLE, environ={})
    numbers = {"4008001234": "hotline", "4008005678": "main"}
    one = render_dialplan(config, bundle({"hotline": hotline, "main": sales}, numbers))
    two = render_dialplan(config, bundle({"main": sales, "hotline": hotline},
                                         dict(reversed(numbers.items()))))
    assert one == two
    assert one[EXTENSIONS_FILE].index("4008001234,1") < one[EXTENSIONS_FILE].index("4008005678,1")


def _sim_rule(option: str) -> str:
    """What docs/runtime.md "How the simulator queues" says the deployment writes."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "runtime.md").read_text("utf-8")
    section = text.split("### How the simulator queues", 1)[1].split("\n### ", 1)[0]
    doc = " ".join(section.split())
    match = re.search(rf"`{option} = ([a-z,]+)`", doc)
    assert match, f"docs/runtime.md's simulator queue rules no longer name {option}"
    return match.group(1)


def test_queue_settings_are_the_simulators_assumptions(tmp_path, hotline, sales):
    config = load_config(EXAMPLE, environ={})
    files = dialplan_files(config, bundle({"hotline": hotline, "main": sales}, {}))
    sections = {s.name: {line.key: line.value for line in s.lines}
                for s in files[QUEUES_FILE].sections}
    assert set(sections) == {"ccf-service", "ccf-support", "ccf-mod_sales"}
    for settings in sections.values():
        for option in ("joinempty", "leavewhenempty", "ringinuse"):
            assert settings[option] == _sim_rule(option)
        assert settings["retry"] == str(sim_centre.DEFAULT_RETRY_MS // 1000)
        assert settings["timeoutpriority"] == "app"  # the wait limit wins over a ring
    # every literal option as the simulator reads it from the same IR
    for ir in (hotline, sales):
        for qualified, queue in queue_configs(ir).items():
            settings = sections["ccf-" + qualified.replace(".", "_")]
            assert settings["strategy"] == queue.strategy
            assert settings["autopause"] == queue.autopause
            ring_ms = queue.ring_ms or sim_centre.DEFAULT_RING_MS
            assert int(settings["timeout"]) == math.ceil(ring_ms / 1000)
            every = queue.announce_position_ms or 0
            assert int(settings["announce-frequency"]) == every // 1000
            assert settings.get("musicclass") == queue.music
    assert sections["ccf-mod_sales"]["timeout"] == "21"  # 20.5 s rounds up, never shorter
    # the language's default: a no-answer pauses the member and the call rings on
    assert sections["ccf-service"]["autopause"] == "yes"
    assert sections["ccf-mod_sales"]["autopause"] == "all"


def test_the_queues_file_lists_no_members(tmp_path, sales):
    # members are dynamic: ccf serve adds the logged-in agents with QueueAdd
    # (AmiCentre.ensure_members, tests/asterisk/test_members.py), because
    # QueueRemove refuses a `member =>` member and the console could not log
    # it out; an agent offline in the agents file (a3) is no member either
    (tmp_path / "agents.toml").write_text(textwrap.dedent("""\
        [[agents]]
        id = "a1"
        extension = "101"
        skills = { general = 5, "en-US" = 6 }
        [[agents]]
        id = "a3"
        extension = "103"
        skills = { general = 7, "en-US" = 8 }
        state = "offline"
        """), encoding="utf-8")
    config = config_at(tmp_path, """\
        [agents]
        file = "agents.toml"
        interface = "Local/{extension}@agents"
        """)
    files = dialplan_files(config, bundle({"main": sales}, {}))
    queues = render_dialplan(config, bundle({"main": sales}, {}))[QUEUES_FILE]
    assert not [line for line in queues.splitlines() if line.startswith("member")]
    assert not [line for s in files[QUEUES_FILE].sections for line in s.lines
                if line.key == "member"]
    assert "; No members: ccf serve adds the logged-in agents (QueueAdd) when it connects." \
        in queues.splitlines()


def test_inbound_transfer_and_answered_contexts(tmp_path, hotline):
    config = config_at(tmp_path, """\
        [fastagi]
        host = "10.0.0.5"
        port = 4600
        [outbound]
        interface = "PJSIP/{number}@carrier"
        [numbers]
        "+864008001234" = "hotline"
        """)
    text = render_dialplan(config, bundle({"hotline": hotline}, config.numbers))[EXTENSIONS_FILE]
    assert "exten => +864008001234,1,Answer()\n" in text
    assert "exten => +864008001234,n,AGI(agi://10.0.0.5:4600/hotline)\n" in text
    assert "exten => +864008001234,n,Hangup()\n" in text  # no fallback configured
    assert "exten => _X.,1,Dial(PJSIP/${EXTEN}@carrier,,${CCF_TRANSFER_DIAL})\n" in text
    assert ("exten => s,1,AGI(agi://10.0.0.5:4600/ccf-answered?call=${ARG1}&agent=${ARG2})\n"
            "exten => s,n,Return()\n") in text
    assert "[ccf-inbound]" in text and "[ccf-transfer]" in text and "[ccf-answered]" in text


def test_a_number_for_a_flow_not_deployed_is_refused(hotline):
    config = load_config(EXAMPLE, environ={})
    with pytest.raises(DialplanError, match="the flow 'orders', which is not deployed"):
        render_dialplan(config, bundle({"hotline": hotline}, {"4008001234": "orders"}))


def test_one_queue_name_declared_two_ways_is_refused(hotline):
    config = load_config(EXAMPLE, environ={})
    other = {**hotline, "flow": {**hotline["flow"], "name": "other"},
             "queues": {"service": {**hotline["queues"]["service"], "options": {
                 **hotline["queues"]["service"]["options"],
                 "strategy": {"lit": "ringall", "type": "text"}}}}}
    with pytest.raises(DialplanError, match="becomes the Asterisk queue ccf-service, which "
                                            "hotline: service declares with other settings"):
        render_dialplan(config, bundle({"hotline": hotline, "other": other}, {}))
    same = {**hotline, "flow": {**hotline["flow"], "name": "same"}}
    files = dialplan_files(config, bundle({"hotline": hotline, "same": same}, {}))
    [service] = [s for s in files[QUEUES_FILE].sections if s.name == "ccf-service"]
    assert service.comments[0] == "declared by hotline: service, same: service"


def test_values_that_would_break_queues_conf_are_refused(hotline):
    config = load_config(EXAMPLE, environ={})
    opts = hotline["queues"]["service"]["options"]
    bad = {**hotline, "queues": {"service": {**hotline["queues"]["service"], "options": {
        **opts, "music": {"lit": "jazz\nmember => PJSIP/evil", "type": "text"}}}}}
    with pytest.raises(DialplanError, match="the music class .* may only use letters"):
        render_dialplan(config, bundle({"hotline": bad}, {}))


def test_skills_computed_per_call_say_who_the_members_are_and_that_calls_are_refused(hotline):
    config = load_config(EXAMPLE, environ={})
    opts = hotline["queues"]["support"]["options"]
    computed = {**hotline, "queues": {"support": {**hotline["queues"]["support"], "options": {
        **opts, "skills": {"var": "wanted"}}}}}
    files = dialplan_files(config, bundle({"hotline": computed}, {}))
    [support] = files[QUEUES_FILE].sections
    # ccf serve adds them (ensure_members): no `member =>` lines
    assert not [line for line in support.lines if line.key == "member"]
    [note] = [c for c in support.comments if c.startswith("skills are computed per call")]
    assert "members are the logged-in agents with its written skills" in note
    assert "ccf serve refuses a call asking for others" in note


def test_the_dialplan_shown_in_the_docs_is_what_deploy_writes(hotline):
    # every dialplan and queue line of docs/asterisk.md's sample is a line
    # `ccf deploy` generates for examples/iws (comments aside)
    doc = (ROOT / "docs" / "asterisk.md").read_text(encoding="utf-8")
    section = doc[doc.index("### The generated dialplan"):doc.index("## 4. Serve")]
    shown = [line.split(";")[0].rstrip() for block in re.findall(r"```ini\n(.*?)```", section,
                                                                  re.S)
             for line in block.splitlines()]
    config = load_config(EXAMPLE, environ={})
    files = render_dialplan(config, bundle({"hotline": hotline}, config.numbers))
    # the docs write `<sounds>` for the absolute path of [paths] sounds
    sounds = os.path.abspath(config.sounds_dir)
    written = {line.rstrip().replace(sounds, "<sounds>") for text in files.values()
               for line in text.splitlines()}
    missing = [line for line in shown if line and not line.startswith("[") and
               line not in written]
    assert shown and not missing, missing
