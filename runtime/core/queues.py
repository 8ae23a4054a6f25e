"""The queues a flow declares, with the options that are literals in its IR.

Imports nothing of the runtime; options that are expressions are the interpreter's to evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, init=False)
class QueueConfig:
    """A declared queue with literal options (see queue_configs)."""

    name: str
    skills: dict[str, int] = field(default_factory=dict)
    max_wait_ms: int | None = None
    priority: int = 0
    music: str | None = None
    announce_position_ms: int | None = None
    ring_ms: int | None = None
    strategy: str = "leastrecent"  # the language's default
    autopause: str = "no"  # an IR before 1.3; the language's default is "yes"
    messages: tuple[str, ...] = ()  # prompt names, played in turn every message_every_ms
    message_every_ms: int | None = None
    announce_wait: bool = False
    keys: str = ""  # the keys that leave the queue

    def __init__(self, name: str, skills: dict[str, int] | None = None,
                 max_wait_ms: int | None = None, priority: int = 0, music: str | None = None,
                 announce_position_ms: int | None = None, ring_ms: int | None = None,
                 strategy: str = "leastrecent", autopause: str = "no",
                 messages: tuple[str, ...] = (), message_every_ms: int | None = None,
                 announce_wait: bool = False, keys: str = "") -> None:
        # What the generated __init__ does, in one step instead of one
        # object.__setattr__ per field (as runtime.core.events.Event): a simulated
        # call's centre makes one per queue. Still frozen afterwards.
        self.__dict__.update(name=name, skills={} if skills is None else skills,
                             max_wait_ms=max_wait_ms, priority=priority, music=music,
                             announce_position_ms=announce_position_ms, ring_ms=ring_ms,
                             strategy=strategy, autopause=autopause, messages=messages,
                             message_every_ms=message_every_ms, announce_wait=announce_wait,
                             keys=keys)


def queue_configs(ir: dict) -> dict[str, QueueConfig]:
    """The IR's queue declarations whose options are literals. An option
    given by an expression is left at its default here: the interpreter
    evaluates it into each call's QueueRequest."""

    def lit(expr):
        return expr.get("lit") if isinstance(expr, dict) else None

    out = {}
    for name, decl in (ir.get("queues") or {}).items():
        opts = decl.get("options") or {}
        skills: dict[str, int] = {}
        sk = opts.get("skills") or {}
        for item in sk.get("list", []):
            if isinstance(lit(item), str):
                skills[lit(item)] = 0
        for skill, level in (sk.get("map") or {}).items():
            if isinstance(lit(level), int):
                skills[skill] = lit(level)
        announce = opts.get("announce_position") or {}
        spoken = opts.get("messages") or {}
        out[name] = QueueConfig(
            name=name, skills=skills, max_wait_ms=lit(opts.get("max_wait")),
            priority=lit(opts.get("priority")) or 0, music=lit(opts.get("music")),
            announce_position_ms=lit(announce.get("every")), ring_ms=lit(opts.get("ring")),
            strategy=lit(opts.get("strategy")) or "leastrecent",
            autopause=lit(opts.get("autopause")) or "no",
            messages=tuple(str(p.get("ref")) for p in spoken.get("prompts", ())),
            message_every_ms=lit(spoken.get("every")),
            announce_wait=lit(opts.get("announce_wait")) is True,
            keys="".join(sorted(decl.get("keys") or {})))
    return out
