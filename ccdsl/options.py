"""The options each construct accepts (`menu retries 3 timeout 5s:`); imports only the core's types.

Options are `name value` pairs after a construct's keyword. The grammar
accepts any name, so this table is where the language says which names
exist, what each value looks like, which must be given, and what each
means. The checker, the reference docs and the runtime read it.

Value forms:
- ``value``   an expression of the option's type (``timeout 5s``)
- ``count``   a number, or a range ``lo..hi`` of numbers (``digits 6..10``)
- ``every``   ``every EXPR`` of the option's type (``announce_position every 30s``)
- ``prompt``  what to play: ``tts EXPR``, ``file EXPR``, a declared prompt
              (``welcome`` or ``order_status(x)``) or a sound file ``"name"``
- ``skills``  a skills list ``[general, tech]`` (bare names are skill names)
              or minimum levels ``{tech: 3}``
- ``step``    the bare name of a step of the flow

An option with ``choices`` takes one of those words as a text
(``strategy "ringall"``); the checker refuses any other literal (E507)
and the runtime any other value.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdsl.types import ANY, BOOL, DURATION, NUMBER, TEXT, Type, record


@dataclass(frozen=True)
class OptionSpec:
    name: str
    form: str  # value | count | every | prompt | skills | step
    type: Type | None  # for value, count and every
    doc: str
    required: bool = False
    default: str | None = None  # as written in a flow, for the docs
    choices: tuple[str, ...] = ()  # the words a text option may be; () for any


def _o(name: str, form: str, t: Type | None, doc: str, required: bool = False,
       default: str | None = None, choices: tuple[str, ...] = ()) -> OptionSpec:
    return OptionSpec(name, form, t, doc, required, default, choices)


# app_queue's strategies: how a queue picks the agents to ring for a call
QUEUE_STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear")
# app_queue's autopause: what happens to an agent who lets a queue call ring out
QUEUE_AUTOPAUSE = ("yes", "no", "all")


_BARGE_IN = _o("barge_in", "value", BOOL, "whether a key press interrupts the playback",
               default="true")
_PROMPT = _o("prompt", "prompt", None, "what to play before waiting for keys")
_SKILLS = _o("skills", "skills", None, "skills an agent needs to take the call")
_PRIORITY = _o("priority", "value", NUMBER, "higher numbers are answered first", default="0")
_MAX_WAIT = _o("max_wait", "value", DURATION,
               "how long a caller waits before the flow continues after the statement")
_RING = _o("ring", "value", DURATION, "how long to ring the agent before trying the next line")
_MUSIC = _o("music", "value", TEXT, "music-on-hold class to play while waiting",
            default="\"default\"")
_ANNOUNCE_POSITION = _o("announce_position", "every", DURATION,
                        "tell the caller their place in the queue this often")
_TIMEOUT_AGENT = _o("timeout", "value", DURATION, "how long to ring before giving up",
                    default="30s")
_CALLER_ID = _o("caller_id", "value", TEXT, "the number the called party sees")
_STRATEGY = _o("strategy", "value", TEXT,
               "how agents are picked: ringall (ring every free agent), leastrecent (the "
               "longest idle), fewestcalls (the fewest calls taken), random, rrmemory (round "
               "robin from the last one rung), linear (in the order listed)",
               default="\"leastrecent\"", choices=QUEUE_STRATEGIES)

_AUTOPAUSE = _o("autopause", "value", TEXT,
                "an agent who lets a call ring out: yes (paused in this queue, and the call "
                "rings the next free agent), all (paused in every queue), no (not paused: "
                "with leastrecent, fewestcalls or random the same agent may be rung again); "
                "a paused agent stays paused until unpaused on the phone system",
                default="\"yes\"", choices=QUEUE_AUTOPAUSE)

# the caller's time in queue: what plays while they wait (queues.conf settings
# on Asterisk, so the declaration's only); the keys are `press` lines
_MESSAGES = _o("messages", "messages", DURATION,
               "prompts played in turn while the caller waits, one each time this long has "
               "passed: `messages [still_busy, offer] every 60s`")
_ANNOUNCE_WAIT = _o("announce_wait", "value", BOOL,
                    "say the expected wait with each position announcement "
                    "(`announce_position`), when it is a minute or more", default="false")

OPTIONS: dict[str, tuple[OptionSpec, ...]] = {
    "menu": (
        _o("prompt", "prompt", None, "what to play before waiting for a key", required=True),
        _o("retries", "value", NUMBER, "how many times to re-prompt after a timeout or an "
           "invalid key before the `exhausted` arm", default="3"),
        _o("timeout", "value", DURATION, "how long to wait for a key after the prompt",
           default="5s"),
        _BARGE_IN,
    ),
    "collect": (
        _o("digits", "count", NUMBER, "how many digits: a number or a range `lo..hi`",
           required=True),
        _o("end", "value", TEXT, "the key that ends the entry early, such as \"#\""),
        _o("timeout", "value", DURATION, "how long to wait for the first digit",
           default="5s"),
        _o("inter_digit", "value", DURATION, "how long to wait between digits", default="3s"),
        _o("retries", "value", NUMBER, "how many times to ask again after no or invalid "
           "input", default="0"),
        _PROMPT,
        _o("invalid_prompt", "prompt", None, "what to play when the entry is not valid"),
        _o("pattern", "value", TEXT, "a regular expression the digits must match"),
        _BARGE_IN,
    ),
    "queue": (_SKILLS, _MAX_WAIT, _MUSIC, _ANNOUNCE_POSITION, _PRIORITY, _RING, _STRATEGY,
              _AUTOPAUSE, _MESSAGES, _ANNOUNCE_WAIT),
    "callback": (
        _o("number", "value", TEXT, "the number to call back", default="caller.number"),
        _o("reason", "value", TEXT, "why, for the agent who calls back"),
        _o("customer", "value", record("customer", nullable=True),
           "the caller's CRM record, or null"),
    ),
    "queue statement": (_PRIORITY, _SKILLS, _MAX_WAIT, _MUSIC, _ANNOUNCE_POSITION),
    "route": (_SKILLS, _PRIORITY, _MAX_WAIT),
    "routing owner": (_RING,),
    "routing last_agent": (
        _RING,
        _o("within", "value", DURATION, "only an agent who talked to the caller this recently",
           default="30d"),
    ),
    "routing agent": (_RING,),
    "routing skills": (_RING,),
    "routing queue": (_PRIORITY, _MAX_WAIT, _SKILLS),
    "play": (_BARGE_IN,),
    "say": (
        _BARGE_IN,
        _o("currency", "value", TEXT, "currency of `say money`, such as \"CNY\""),
    ),
    "transfer": (
        _TIMEOUT_AGENT,
        _CALLER_ID,
        _o("announce", "prompt", None, "what the agent hears before the caller is connected"),
    ),
    # app_queue takes it from there: the agent is shown the caller and hears nothing the
    # flow chose, and the queue's max_wait bounds the wait
    "transfer queue": (),
    "three_way": (_TIMEOUT_AGENT, _CALLER_ID),
    "record": (
        _o("format", "value", TEXT, "audio format of the recording", default="\"wav\""),
        _o("beep", "value", BOOL, "play a beep when recording starts", default="false"),
    ),
    "voicemail": (
        _o("greeting", "prompt", None, "what to play before the beep"),
        _o("max_length", "value", DURATION, "the longest message kept", default="3m"),
        _o("beep", "value", BOOL, "play a beep before recording", default="true"),
    ),
    # a pause is silent unless music is asked for
    "wait": (_o("music", "value", TEXT, "music-on-hold class to play during the pause"),),
    "test agent": (
        _o("skills", "skills", None, "the agent's skills"),
        _o("state", "value", TEXT, "available, busy, paused, offline, or no_answer (rings "
           "but never answers)",
           default="\"available\""),
        _o("extension", "value", TEXT, "the agent's extension"),
        _o("answer_after", "value", DURATION, "how long the agent lets a call ring",
           default="2s"),
    ),
    "test call": (
        _o("from", "value", TEXT, "the caller's number"),
        _o("to", "value", TEXT, "the number dialled"),
        _o("name", "value", TEXT, "the caller-id name"),
        _o("language", "value", TEXT, "the caller's language: the call starts in it when the "
           "flow has it"),
        _o("seed", "value", NUMBER, "the seed of the call's `random.choose` (default 0): "
           "another seed, maybe another branch"),
    ),
    "test press": (_o("after", "value", DURATION, "wait this long before pressing"),),
    # `expect queue service priority 10`; every other expectation takes none
    "test expect queue": (_o("priority", "value", NUMBER, "the call joined that queue at "
                             "this priority"),),
    "test expect": (),
    "test http": (
        _o("status", "value", NUMBER, "the HTTP status of the answer", default="200"),
        _o("body", "value", ANY, "the body of the answer: a text, or a map or list sent as "
           "JSON"),
        _o("delay", "value", DURATION, "how long the server takes to answer (past the "
           "call's timeout the request times out)"),
    ),
    "test hangup": (
        _o("after", "value", DURATION, "hang up this long after the previous event (with "
           "`in_step`: after the call enters the step)"),
        _o("in_step", "step", None, "hang up as soon as the call enters this step (or `after` "
           "that long)"),
    ),
}

ROUTING_KINDS = ("owner", "last_agent", "agent", "skills", "queue")


def options_for(construct: str) -> tuple[OptionSpec, ...]:
    return OPTIONS[construct]


def spec(construct: str, name: str) -> OptionSpec | None:
    for s in OPTIONS[construct]:
        if s.name == name:
            return s
    return None
