"""Queues, routing rules and skills as values when the call runs, in the simulator and through
`ccf serve` over FastAGI (the test peer as Asterisk): what each runtime does with a queue
chosen at run time, a value that is no queue, and skills computed from the CRM."""

from __future__ import annotations

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.testing.runner import run_test
from ccdsl.runtime.testing.via_asterisk import run_test_over_agi

RUNTIMES = {"simulator": run_test, "asterisk": run_test_over_agi}

FLOW = '''\
flow values:
  languages en-US

record customer:
  phone: text
  department: any
  skills: any
  tier: text?

queue cardiology skills [cardiology] max_wait 30s
queue general skills [general] max_wait 30s

routing to_cardiology:
  queue cardiology
  otherwise -> goto done

routing to_general:
  queue general
  otherwise -> goto done

const by_tier = {vip: to_cardiology}

sub book(dept):
  queue dept
  return call.talked_to_agent

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  menu retries 1 timeout 5s:
    prompt tts "Press 1, 2, 3, 4 or 5."
    1 -> goto by_parameter
    2 -> goto by_rule
    3 -> goto computed_skills
    4 -> goto by_name
    5 -> goto skills_line
    timeout, invalid -> log "nothing"
    exhausted -> hangup

step by_parameter:
  ok = book(customer.department) on error -> goto failed
  log "booked: ${ok}"
  goto done

step by_rule:
  route by_tier[customer.tier ?? ""] ?? to_general
  goto done

step computed_skills:
  queue general skills customer.skills on error -> goto failed
  goto done

step by_name:
  queue queues.named(customer.department ?? "") ?? general
  goto done

step skills_line:
  route by_skills

step failed:
  play tts "Sorry."
  hangup

step done:
  hangup

routing by_skills:
  skills customer.skills ring 10s
  otherwise -> goto failed

test "a sub-flow's parameter given a queue":
  crm customer {phone: "+8613800000001", department: "cardiology"}
  agent ann skills [cardiology]
  call from "+8613800000001"
  press "4"
  expect queue cardiology
  expect answered by ann

test "a routing rule chosen from a map by the CRM":
  crm customer {phone: "+8613800000001", tier: "vip"}
  agent ann skills [cardiology]
  agent gil skills [general]
  call from "+8613800000001"
  press "2"
  expect queue cardiology
  expect answered by ann

test "a routing rule's default":
  crm customer {phone: "+8613800000001", tier: "basic"}
  agent ann skills [cardiology]
  agent gil skills [general]
  call from "+8613800000001"
  press "2"
  expect queue general
  expect answered by gil

test "text that is no queue's name falls back":
  crm customer {phone: "+8613800000001", department: "radiology"}
  agent gil skills [general]
  call from "+8613800000001"
  press "4"
  expect queue general
  expect answered by gil

test "a sub-flow's parameter given text":
  crm customer {phone: "+8613800000001", department: "cardiology"}
  agent ann skills [cardiology]
  call from "+8613800000001"
  press "1"
  expect not queue cardiology
  expect step failed

test "skills from the CRM that are not skills":
  crm customer {phone: "+8613800000001", skills: 5}
  agent gil skills [general]
  call from "+8613800000001"
  press "3"
  expect step failed

test "a routing skills line with skills from the CRM":
  crm customer {phone: "+8613800000001", skills: ["general", "zh-CN"]}
  agent gil skills [general]
  agent hu skills [general, "zh-CN"]
  call from "+8613800000001"
  press "5"
  expect answered by hu

test "a queue with skills from the CRM":
  crm customer {phone: "+8613800000001", skills: ["general", "zh-CN"]}
  agent gil skills [general]
  agent hu skills [general, "zh-CN"]
  call from "+8613800000001"
  press "3"
'''

SAME_ON_BOTH = ("a sub-flow's parameter given a queue",
                "a routing rule chosen from a map by the CRM", "a routing rule's default",
                "text that is no queue's name falls back",
                "a sub-flow's parameter given text", "skills from the CRM that are not skills",
                "a routing skills line with skills from the CRM")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("values") / "values.ccf"
    path.write_text(FLOW, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir, load_program(result.ir, validate=False)


def run(compiled, name: str, runtime: str):
    ir, program = compiled
    test = next(t for t in ir["tests"] if t["name"] == name)
    return RUNTIMES[runtime](ir, test, program=program)


def errors(result) -> list[str]:
    return [e.data["message"] for e in result.events if e.kind == "error"]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", SAME_ON_BOTH)
def test_queue_values_run_alike_on_both_runtimes(compiled, name: str, runtime: str) -> None:
    result = run(compiled, name, runtime)
    assert result.passed, [(o.expectation.describe(), o.happened) for o in result.outcomes
                           if not o.passed]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_value_that_is_no_queue_is_a_flow_error_naming_the_queues(compiled, runtime) -> None:
    result = run(compiled, "a sub-flow's parameter given text", runtime)
    assert errors(result) == [
        "`queue` needs one of the flow's queues (cardiology, general), not text \"cardiology\"; "
        "`queues.named(\"cardiology\")` turns a queue's name into the queue"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_computed_skills_that_are_no_skills_name_the_option(compiled, runtime) -> None:
    result = run(compiled, "skills from the CRM that are not skills", runtime)
    assert errors(result) == [
        "queue general: the option `skills` has number 5; skills are a list of names or a map "
        "of levels"]


def test_the_simulator_queues_by_skills_from_the_crm(compiled) -> None:
    result = run(compiled, "a queue with skills from the CRM", "simulator")
    joined = [e.data for e in result.events if e.kind == "queue_joined"]
    assert joined[0]["skills"] == {"general": 0, "zh-CN": 0}
    assert [e.data["agent"] for e in result.events if e.kind == "agent_answered"] == ["hu"]
    assert errors(result) == []


def test_asterisk_refuses_skills_its_queue_members_were_not_chosen_by(compiled) -> None:
    """app_queue rings the members ccf serve added by the declared skills:
    a call asking for others is refused, not rung to gil."""
    result = run(compiled, "a queue with skills from the CRM", "asterisk")
    assert [e.data["agent"] for e in result.events if e.kind == "agent_answered"] == []
    assert errors(result) == [
        "Asterisk cannot choose the agents of queue general per call: app_queue rings its "
        "members, the agents with its declared skills (general), and this call asks for "
        "general, zh-CN. Declare a queue with these skills and choose it as a value (`queue "
        "by_language[lang] ?? support`), or ring by skills with a routing `skills` line"]
    assert any(e.kind == "step_entered" and e.data.get("step") == "failed"
               for e in result.events)
