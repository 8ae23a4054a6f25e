"""The values of test lines that name fixed words rather than declarations (E303):
`expect crm TYPE`, `expect outcome "..."`, `expect priority N`, `expect error "..."`,
`... via owner`, `crm fails for TYPE`, `http METHOD ...`, and the set-up values no call
can have (an agent's state, an HTTP status, a seed). Called by checks/tests.py.

Must not import the runtime: the words both sides know are in ccdsl/test_words.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.checks.values import number_value
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.namespan import word_span
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
from ccdsl.test_words import AGENT_STATE_WORDS, OUTCOMES, ROUTE_WAYS, SEED_RULE, whole_seed

HTTP_METHODS = ("get", "post")  # the http.* builtins a test can answer for

# what each new kind's value must be: a text, a number or a word of a list
TEXT_VALUES = {"error": "the text the error's message contains, such as "
                        '`expect error "null"`',
               "crm_log": 'the outcome logged, such as `expect crm_log "resolved"`'}


def check_value(stmt: ast.TestExpect, crm_types: list[str], sources) -> Iterator[Diagnostic]:
    """The value and the `via` of an expectation whose kind is known."""
    value = stmt.value
    if stmt.via is not None:
        yield from _via(stmt, sources)
    if value is None:
        return
    if stmt.kind == "crm":
        yield from _record_type(value, crm_types, "`expect crm`")
    elif stmt.kind in TEXT_VALUES and not isinstance(value, ast.Str):
        yield diagnostic("E303", f"`expect {stmt.kind}` takes a text",
                         value.span, help=f"write {TEXT_VALUES[stmt.kind]}")
    elif stmt.kind == "priority" and not isinstance(value, ast.Number):
        yield diagnostic("E303", "`expect priority` takes the queue priority as a number",
                         value.span, help="write `expect priority 10`")
    elif stmt.kind == "outcome":
        word = value.value if isinstance(value, ast.Str) and value.is_plain else None
        if word not in OUTCOMES:
            hint = did_you_mean(word, OUTCOMES) if word else None
            shown = f'"{word}"' if word is not None else "this"
            yield diagnostic(
                "E303", f"`expect outcome`: {shown} is not a call outcome", value.span,
                help=(f"{hint} " if hint else "") + "the outcomes are: "
                + ", ".join(f'"{w}"' for w in OUTCOMES))


def _via(stmt: ast.TestExpect, sources) -> Iterator[Diagnostic]:
    span = word_span(stmt.span, stmt.via, sources, skip=len("expect"))
    if stmt.kind != "routed":
        yield diagnostic("E303", f"`expect {stmt.kind}` does not take `via`", span,
                         help="`via` says how a call was routed: "
                              "`expect routed via owner to zhang`")
    elif stmt.via not in ROUTE_WAYS:
        hint = did_you_mean(stmt.via, ROUTE_WAYS)
        yield diagnostic("E303", f"`via {stmt.via}`: a route does not choose that way", span,
                         help=(f"{hint} " if hint else "") + "the ways are: "
                         + ", ".join(ROUTE_WAYS))


def _record_type(value: ast.Expr, crm_types: list[str], what: str) -> Iterator[Diagnostic]:
    name = value.id if isinstance(value, ast.Name) else \
        value.value if isinstance(value, ast.Str) and value.is_plain else None
    if name is None or name in crm_types:
        return
    hint = did_you_mean(name, crm_types)
    yield diagnostic("E109", f"{what}: unknown record type `{name}`", value.span,
                     help=hint or "the CRM's record types are: " + ", ".join(crm_types))


def check_fault(stmt, crm_types: list[str], sources) -> Iterator[Diagnostic]:
    """`crm fails for TYPE` and `http METHOD URL ...` lines."""
    if isinstance(stmt, ast.TestCrmFault):
        if stmt.record_type is not None and stmt.record_type not in crm_types:
            hint = did_you_mean(stmt.record_type, crm_types)
            yield diagnostic(
                "E109", f"`crm ... for {stmt.record_type}`: unknown record type "
                f"`{stmt.record_type}`",
                word_span(stmt.span, stmt.record_type, sources, skip=len("crm")),
                help=hint or "the CRM's record types are: " + ", ".join(crm_types))
        if (stmt.fault == "slow") != (stmt.after is not None):
            yield diagnostic("E303", "`crm slow` says how slow: `crm slow 3s`", stmt.span)
    elif isinstance(stmt, ast.TestHttp) and stmt.method not in HTTP_METHODS:
        hint = did_you_mean(stmt.method, HTTP_METHODS)
        yield diagnostic(
            "E303", f"`http {stmt.method}`: a test answers `http get` and `http post`",
            word_span(stmt.span, stmt.method, sources, skip=len("http")),
            help=hint or 'write `http get "https://example.com/x" status 200`')


def check_set_up(stmt) -> Iterator[Diagnostic]:
    """Literal option values the test runner could not set up: found here, `ccf validate`
    and the editor see them, not only `ccf test`."""
    options = {o.name: o.value for o in getattr(stmt, "options", ())}
    if isinstance(stmt, ast.TestAgent) and isinstance(state := options.get("state"), ast.Str) \
            and state.is_plain and state.value.strip().lower() not in AGENT_STATE_WORDS:
        hint = did_you_mean(state.value.strip().lower(), AGENT_STATE_WORDS)
        yield diagnostic("E303", f'agent state "{state.value}" is not a state of an agent',
                         state.span, help=(f"{hint} " if hint else "") + "the states are: "
                         + ", ".join(f'"{w}"' for w in AGENT_STATE_WORDS))
    elif isinstance(stmt, ast.TestHttp) and isinstance(status := options.get("status"),
                                                       (ast.Number, ast.Unary)) \
            and not (isinstance(status, ast.Number) and status.text.isdigit()
                     and 100 <= int(status.text) <= 599):
        yield diagnostic("E303", f"an HTTP status is a whole number from 100 to 599, not "
                         f"{format_expr(status)}", status.span, help="write `status 503`")
    elif isinstance(stmt, ast.TestCall) and isinstance(seed := options.get("seed"),
                                                       (ast.Number, ast.Unary)) \
            and whole_seed(number_value(seed)) is None:
        yield diagnostic("E303", SEED_RULE, seed.span,
                         help="write `seed 7`; the same seed makes the same random choices")
