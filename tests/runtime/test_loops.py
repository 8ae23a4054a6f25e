"""`repeat`, `for each` and `break` at run time (docs/runtime.md "Loops"): rounds,
the loop variable, leaving a loop by `break`, `goto` and `return`, the limit of
rounds and the step budget counted per round."""

from __future__ import annotations

from scripted_channel import compile_flow, run_flow

from ccdsl.runtime.core.services import RuntimeConfig

HEAD = "flow t:\n  languages en-US\n\n"


def flow(tmp_path, body: str):
    return compile_flow(tmp_path, HEAD + body)


def test_repeat_runs_its_body_n_times_and_for_each_once_per_item(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  n = 2
  repeat n + 1:
    log "round"
  for each name in ["Li", "Wang"]:
    log "hello ${name}"
  log "after: ${name}"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["round", "round", "round", "hello Li", "hello Wang", "after: Wang"]
    assert run.result.outcome == "hangup"


def test_break_leaves_the_innermost_loop_only(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  for each a in ["1", "2"]:
    repeat 5:
      log "inner ${a}"
      break
    log "outer ${a}"
  hangup
""")
    assert run_flow(program).logs() == ["inner 1", "outer 1", "inner 2", "outer 2"]


def test_a_menu_in_a_loop_asks_again_until_break(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  repeat 3:
    menu prompt tts "Press 1 to repeat, 2 to go on" retries 0:
      1 -> log "again"
      2 -> break
      timeout, invalid -> log "nothing"
  log "done"
  hangup
""")
    assert run_flow(program, keys=["1", "2"]).logs() == ["again", "done"]
    assert run_flow(program, keys=[None, "1", None]).logs() == [
        "nothing", "again", "nothing", "done"]


def test_goto_out_of_a_loop_and_return_from_a_loop_in_a_sub(tmp_path):
    program = flow(tmp_path, """\
sub first_long(items):
  for each item in items:
    if len(item) > 2:
      return item
  return null

on start:
  answer
  found = first_long(["ab", "abc", "abcd"])
  log "found ${found}"
  for each n in [1, 2, 3]:
    if n == 2:
      goto out
    log "n ${n}"
  hangup

step out:
  log "out"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["found abc", "n 1", "out"]
    assert run.result.error is None


def test_a_count_out_of_range_at_run_time_is_a_flow_error(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  n = 1001
  repeat n:
    log "round"
  hangup
""")
    run = run_flow(program)
    assert run.result.outcome == "error"
    assert "from 0 to 1000" in run.result.error and run.logs() == []


def test_for_each_over_null_is_a_flow_error(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  lists = [["a"]]
  for each x in lists[3] ?? ["none"]:
    log "item ${x}"
  hangup
""")
    assert run_flow(program).logs() == ["item none"]


def test_each_round_counts_against_the_step_budget(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  repeat 1000:
    repeat 1000:
      x = 1
  hangup
""")
    run = run_flow(program, config=RuntimeConfig(step_budget=500))
    assert run.result.outcome == "error"
    error = run.of("error")[0]
    assert error.data["kind"] == "step_budget"
    # rounds of an empty-looking body cost too: 500 ops, not 500 assignments
    assert len(run.of("variable_set")) < 500
