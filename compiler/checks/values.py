"""Values the compiler can judge from the text alone (E500-E507, E509); must not import the runtime.

Ranges, times and dates, overlapping business hours, time zones, day names,
option values out of their limits (ccdsl/explanations/E505.md lists them),
a collect's `pattern` and the words of options with fixed choices.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ccdsl import ast
from ccdsl.compiler.namespan import Sources, word_span
from ccdsl.compiler.program import Program
from ccdsl.compiler.zone_files import surely_listed
from ccdsl.diagnostics import Diagnostic, closest, diagnostic, did_you_mean
from ccdsl.limits import MAX_WAIT_MS, MAX_WAIT_WORDS
from ccdsl.options import options_for

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# words people write for a set of days, and how to write them here
DAY_WORDS = {"daily": "mon-sun", "everyday": "mon-sun", "weekdays": "mon-fri",
             "weekends": "sat-sun", "weekend": "sat-sun"}
MAX_RETRIES = 10
MAX_PRIORITY = 100
# options whose duration must be longer than zero (a negative one never is valid)
POSITIVE_DURATIONS = ("ring", "max_length", "inter_digit", "within")
# options that look back over a caller's history rather than make the call wait
LOOK_BACKS = ("within",)
MINUTES_PER_DAY = 24 * 60


nodes = ast.walk


# ---- small readers of literal values ------------------------------------------------


def number_value(expr) -> float | int | None:
    """A number literal's value as the interpreter reads it, each `-` before it negating it
    (`- -7` is 7, as a test's seed takes it); None for any other expression, and for a
    number too large for a float (E509 says so: int() of its digits would raise)."""
    if isinstance(expr, ast.Number):
        return None if math.isinf(float(expr.text)) else expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-":
        inner = number_value(expr.operand)
        return None if inner is None else -inner
    return None


def duration_ms(expr) -> int | None:
    if isinstance(expr, ast.Duration):
        return expr.milliseconds
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Duration):
        return -expr.operand.milliseconds
    return None


def time_problem(text: str, *, end_of_day_ok: bool = False) -> str | None:
    """Why `HH:MM` is not a time of day, or None. 24:00 is only a time as
    the end of a range of hours (midnight at the end of the day)."""
    hour, minute = (int(p) for p in text.split(":"))
    if end_of_day_ok and hour == 24 and minute == 0:
        return None
    if hour > 23:
        return f"there is no hour {hour} (hours run 00 to 23)"
    if minute > 59:
        return f"there is no minute {minute} (minutes run 00 to 59)"
    return None


def date_problem(text: str) -> str | None:
    """Why `YYYY-MM-DD` is not a calendar date, or None."""
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        year, month, day = (int(p) for p in text.split("-"))
        if not 1 <= month <= 12:
            return f"there is no month {month:02d}"
        if year < 1:
            return "there is no year 0000"
        return f"month {month:02d} of {year} has no day {day:02d}"
    return None


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    import zoneinfo  # deferred: only flows that name a time zone pay for the zone list

    return frozenset(zoneinfo.available_timezones())


def zone_problem(name: str) -> tuple[str, str] | None:
    """(message, help) when `name` is not an IANA time zone, or None.
    The zones come from the system's database or the `tzdata` package
    (a dependency of ccdsl, so every machine has one)."""
    if surely_listed(name):  # its one file, not the whole list (start-up, issue 15)
        return None
    zones = known_zones()
    if name in zones:
        return None
    if not zones:
        return (f"cannot check the time zone `{name}`: this machine has no time-zone database",
                "install the `tzdata` package (`pip install tzdata`)")
    examples = 'IANA names such as "Asia/Shanghai", "Europe/Berlin" or "UTC"'
    if name.isupper() and "/" not in name:
        return (f"unknown time zone `{name}`",
                f"abbreviations name several zones; time zones are {examples}")
    close = did_you_mean(name, zones)
    return (f"unknown time zone `{name}`",
            f"{close} time zones are {examples}" if close else f"time zones are {examples}")


def minutes(t: ast.Time) -> int:
    return t.hour * 60 + t.minute


# ---- the pass ------------------------------------------------------------------------------


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    sources = program.sources()
    for loaded in program.modules.values():
        yield from _module(loaded.module, sources)


def _module(module: ast.Module, sources: Sources) -> Iterator[Diagnostic]:
    # the times and dates of business hours are checked with their lines
    in_hours: set[int] = set()
    for item in module.items:
        if isinstance(item, ast.Hours):
            yield from _hours(item, sources)
            in_hours.update(id(n) for n in nodes(item) if isinstance(n, (ast.Time, ast.Date)))
    for item in module.items:
        yield from _item(item, in_hours)


def _item(item, in_hours: set[int]) -> Iterator[Diagnostic]:
    # one walk per item: literal times and dates, collects, waits and, outside
    # tests, the options of every construct
    check_options = not isinstance(item, ast.Test)
    visits = _VISITS
    for node in nodes(item):
        visit = visits[type(node)]
        if visit is not None and id(node) not in in_hours:
            yield from visit(node, check_options)


def _option_visit(node: ast.Option, check_options: bool) -> Iterator[Diagnostic]:
    return _option(node) if check_options else iter(())


def _time_visit(node: ast.Time, check_options: bool) -> Iterator[Diagnostic]:
    problem = time_problem(node.text)
    if problem:
        yield _bad_time(node, problem)


def _date_visit(node: ast.Date, check_options: bool) -> Iterator[Diagnostic]:
    problem = date_problem(node.text)
    if problem:
        yield _bad_date(node, problem)


def _wait_visit(node: ast.Wait, check_options: bool) -> Iterator[Diagnostic]:
    ms = duration_ms(node.duration)
    if ms is not None and ms <= 0:
        yield diagnostic("E505", f"`wait {_text(node.duration)}` does not wait",
                         node.duration.span,
                         help="wait a duration longer than zero, such as `wait 2s`")
    elif ms is not None and ms > MAX_WAIT_MS:
        yield _too_long(f"wait {_text(node.duration)}", node.duration.span)


def _too_long(written: str, span) -> Diagnostic:
    return diagnostic("E505", f"`{written}` is longer than a call can wait", span,
                      help=f"a call waits {MAX_WAIT_WORDS} at the most (Asterisk counts its "
                           "timeouts in milliseconds in 32 bits): give a shorter duration")


def _number_visit(node: ast.Number, check_options: bool) -> Iterator[Diagnostic]:
    # float() reads any length of digits (int() stops at 4300) and gives inf
    # past the largest float: such a number would reach callers as "inf"
    if math.isinf(float(node.text)):
        digits = len(node.text.split(".")[0])
        yield diagnostic("E509", f"this number is too large: {digits} digits before the point",
                         node.span, help="numbers run up to about 1.8 followed by 308 digits")


def _bad_time(node: ast.Time, problem: str) -> Diagnostic:
    return diagnostic("E501", f"`{node.text}` is not a time of day: {problem}", node.span,
                      help="write times as HH:MM on a 24-hour clock, from 00:00 to 23:59")


def _bad_date(node: ast.Date, problem: str) -> Diagnostic:
    return diagnostic("E501", f"`{node.text}` is not a date: {problem}", node.span,
                      help="write dates as YYYY-MM-DD, a day that exists in that month")


def _text(expr) -> str:
    if isinstance(expr, ast.Unary):
        return "-" + _text(expr.operand)
    return getattr(expr, "text", "")


# ---- options: E500 ranges, E505 limits ----------------------------------------------------


def _option(option: ast.Option) -> Iterator[Diagnostic]:
    value = option.value
    name = option.name
    if isinstance(value, ast.RangeValue):
        low, high = _comparable(value.low), _comparable(value.high)
        if low is not None and high is not None and low > high:
            yield diagnostic(
                "E500", f"`{name} {_text(value.low)}..{_text(value.high)}`: the range is empty, "
                        "its lowest value is above its highest", value.span,
                help=f"write the smaller value first: `{name} {_text(value.high)}.."
                     f"{_text(value.low)}`")
        return
    if isinstance(value, ast.EveryValue):
        ms = duration_ms(value.interval)
        if ms is not None and ms <= 0:
            yield diagnostic("E505", f"`{name} every {_text(value.interval)}` never repeats",
                             value.interval.span,
                             help="repeat every duration longer than zero, such as `every 30s`")
        elif ms is not None and ms > MAX_WAIT_MS:
            yield _too_long(f"{name} every {_text(value.interval)}", value.interval.span)
        return
    if name == "retries":
        yield from _whole_number(option, 0, MAX_RETRIES,
                                 "a menu or collect asks again at most "
                                 f"{MAX_RETRIES} times; callers hang up long before")
    elif name == "priority":
        yield from _whole_number(option, 0, MAX_PRIORITY,
                                 f"priorities run from 0 (normal) to {MAX_PRIORITY} (first)")
    ms = duration_ms(value)
    if ms is None:
        return
    if ms < 0:
        yield diagnostic("E505", f"`{name} {_text(value)}`: a duration cannot be negative",
                         value.span, help="write a duration of zero or more, such as `5s`")
    elif ms == 0 and (name.endswith("timeout") or name in POSITIVE_DURATIONS):
        yield diagnostic("E505", f"`{name} {_text(value)}`: this must be longer than zero",
                         value.span,
                         help=f"give `{name}` a duration longer than zero, such as `{name} 5s`")
    elif ms > MAX_WAIT_MS and name not in LOOK_BACKS:
        yield _too_long(f"{name} {_text(value)}", value.span)


def _comparable(expr) -> float | None:
    number = number_value(expr)
    if number is not None:
        return number
    ms = duration_ms(expr)
    if ms is not None:
        return ms
    if isinstance(expr, ast.Time):
        return minutes(expr)
    if isinstance(expr, ast.Date) and date_problem(expr.text) is None:
        return datetime.date.fromisoformat(expr.text).toordinal()
    return None


def _whole_number(option: ast.Option, low: int, high: int, why: str) -> Iterator[Diagnostic]:
    value = number_value(option.value)
    if value is None:
        return
    if value != int(value) or not low <= value <= high:
        yield diagnostic(
            "E505", f"`{option.name} {_text(option.value)}` is out of range: `{option.name}` "
                    f"is a whole number from {low} to {high}", option.value.span, help=why)


# ---- options with fixed choices: E507 ---------------------------------------------------


def _choices(options, construct: str) -> Iterator[Diagnostic]:
    """A literal text option value that is not among its choices. A value
    computed at run time (a constant, an expression) is checked there."""
    specs = {spec.name: spec for spec in options_for(construct) if spec.choices}
    for option in options:
        spec = specs.get(option.name)
        value = option.value
        if spec is None or not isinstance(value, ast.Str) or not value.is_plain:
            continue
        word = value.value
        if word in spec.choices:
            continue
        listed = ", ".join(spec.choices)
        best = closest(word.strip().lower(), spec.choices)
        suggestion = f"did you mean `{option.name} \"{best}\"`?" if best else None
        yield diagnostic(
            "E507", f"`{option.name} \"{value.raw}\"` is not a {construct} {option.name}: it is "
                    f"one of {listed}", value.span,
            help=suggestion or f"write one of them, such as `{option.name} \"{spec.choices[0]}\"`")


# ---- collect: digits (E500) and matching (E506) -----------------------------------------


def _collect(stmt: ast.Collect) -> Iterator[Diagnostic]:
    for option in stmt.options:
        if option.name == "digits":
            yield from _digits(option)
        elif option.name == "pattern":
            yield from _matching(option)


def _digits(option: ast.Option) -> Iterator[Diagnostic]:
    value = option.value
    if isinstance(value, ast.RangeValue):
        low, high = number_value(value.low), number_value(value.high)
        bounds = [(low, value.low), (high, value.high)]
    else:
        low = high = number_value(value)
        bounds = [(low, value)]
    for number, expr in bounds:
        if number is not None and (number < 0 or number != int(number)):
            yield diagnostic(
                "E500", f"`digits {_text(expr)}`: a number of digits is a whole number of zero "
                        "or more", expr.span,
                help="write `digits 4` or a range like `digits 6..10`")
            return
    if high is not None and high == 0 and (low is None or low <= high):
        yield diagnostic(
            "E500", "`digits 0`: this collect can never receive a digit", value.span,
            help="ask for at least one digit: `digits 1..4`, or `digits 4` for exactly four")


def _matching(option: ast.Option) -> Iterator[Diagnostic]:
    value = option.value
    if not isinstance(value, ast.Str) or not value.is_plain:
        return
    try:
        re.compile(value.value)
    except re.error as exc:
        yield diagnostic(
            "E506", f"the pattern \"{value.raw}\" is not a valid regular expression: {exc.msg}",
            value.span,
            help='write a regular expression over the digits, such as "^[0-9]{6}$"; match a '
                 'literal * or # as [*] or [#]')


# ---- hours: E500, E501, E502, E503, E504 ---------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One time range of one line of a weekly schedule or opening."""

    days: frozenset  # weekday numbers or date ordinals it applies to
    start: int
    end: int
    range: ast.TimeRange
    line: object


def _hours(hours: ast.Hours, sources: Sources) -> Iterator[Diagnostic]:
    if hours.tz is not None and hours.tz.is_plain:
        problem = zone_problem(hours.tz.value)
        if problem:
            yield diagnostic("E503", problem[0], hours.tz.span, help=problem[1])
    weekly: list[_Slot] = []
    opened: list[_Slot] = []
    closed: list[tuple[int, int, ast.HoursClosed]] = []
    for line in hours.lines:
        if isinstance(line, ast.HoursWeekly):
            days: set[int] = set()
            for day_range in line.days:
                found, problems = _day_range(day_range, sources)
                yield from problems
                days |= found
            for slot in _slots(line.times, frozenset(days), line):
                weekly.append(slot)
            yield from _time_problems(line.times)
        else:
            span = yield from _date_range(line.dates)
            if isinstance(line, ast.HoursOpen):
                yield from _time_problems(line.times)
                if span is not None:
                    opened.extend(_slots(line.times, frozenset(range(span[0], span[1] + 1)),
                                         line))
            elif span is not None:
                closed.append((span[0], span[1], line))
    yield from _slot_overlaps(weekly, _weekday_names)
    yield from _slot_overlaps(opened, _date_names)
    for i, (first, last, line) in enumerate(closed):
        for other_first, other_last, other in closed[:i]:
            if first <= other_last and other_first <= last:
                yield diagnostic(
                    "E502", "these closed dates overlap the closed dates on line "
                            f"{other.span.line}", line.dates.span,
                    help="merge the two lines into one range, or make the ranges not share a day",
                    notes=(f"line {other.span.line}: closed {_date_range_text(other.dates)}",))
                break


def _slots(times, days: frozenset, line) -> Iterator[_Slot]:
    for time_range in times:
        start, end = time_range.start, time_range.end
        if time_problem(start.text) or time_problem(end.text, end_of_day_ok=True):
            continue
        if minutes(start) < minutes(end):
            yield _Slot(days, minutes(start), minutes(end), time_range, line)


def _time_problems(times) -> Iterator[Diagnostic]:
    for time_range in times:
        start, end = time_range.start, time_range.end
        bad = False
        for node, ok_24 in ((start, False), (end, True)):
            problem = time_problem(node.text, end_of_day_ok=ok_24)
            if problem:
                bad = True
                yield _bad_time(node, problem)
        if not bad and minutes(start) >= minutes(end):
            yield diagnostic(
                "E500", f"`{start.text}-{end.text}` is an empty range of hours: it ends before "
                        "it starts", time_range.span,
                help=f"write the opening time first; hours past midnight are two ranges: "
                     f"`{start.text}-24:00` on one day and `00:00-{end.text}` on the next")


def _date_range(dates: ast.DateRange):
    """Report bad dates of a range; returns (first, last) as ordinals, or
    None when a date is not valid. A generator: `yield from` it."""
    bad = False
    for node in (dates.first, dates.last):
        if node is not None:
            problem = date_problem(node.text)
            if problem:
                bad = True
                yield _bad_date(node, problem)
    if bad:
        return None
    first = datetime.date.fromisoformat(dates.first.text).toordinal()
    last = datetime.date.fromisoformat(dates.last.text).toordinal() if dates.last else first
    if last < first:
        yield diagnostic(
            "E500", f"`{_date_range_text(dates)}` is an empty range of dates: it ends before it "
                    "starts", dates.span,
            help=f"write the earlier date first: `{dates.last.text}..{dates.first.text}`")
        return None
    return first, last


def _date_range_text(dates: ast.DateRange) -> str:
    return dates.first.text + (f"..{dates.last.text}" if dates.last else "")


def _day_range(day_range: ast.DayRange, sources: Sources):
    """The weekdays (0 = mon) a `mon-fri` names, and diagnostics for names
    that are not days. A range may wrap round the week end: `fri-mon`."""
    problems = []
    numbers = []
    for name in (day_range.first, day_range.last):
        if name is None:
            continue
        if name in DAYS:
            numbers.append(DAYS.index(name))
            continue
        span = word_span(day_range.span, name, sources)
        if name in DAY_WORDS:
            hint = f"write `{DAY_WORDS[name]}`;"
        else:
            hint = did_you_mean(name.lower()[:3], DAYS) if name.lower()[:3] in DAYS \
                else did_you_mean(name, DAYS)
        days_help = "days are mon tue wed thu fri sat sun, and ranges such as mon-fri"
        problems.append(diagnostic("E504", f"`{name}` is not a day of the week", span,
                                   help=f"{hint} {days_help}" if hint else days_help))
    if len(numbers) != (2 if day_range.last else 1):
        return set(), problems
    return set(weekdays(numbers[0], numbers[-1])), problems


def weekdays(first: int, last: int) -> list[int]:
    """The weekdays (0 = mon) from first to last; a range may wrap round
    the week end: `fri-mon`."""
    return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


def _weekday_names(days) -> str:
    return ", ".join(DAYS[d] for d in sorted(days))


def _date_names(days) -> str:
    ordered = sorted(days)
    first = datetime.date.fromordinal(ordered[0]).isoformat()
    if len(ordered) == 1:
        return first
    return f"{first}..{datetime.date.fromordinal(ordered[-1]).isoformat()}"


def _slot_overlaps(slots: list[_Slot], describe) -> Iterator[Diagnostic]:
    reported: set[int] = set()
    for i, slot in enumerate(slots):
        for other in slots[:i]:
            shared = slot.days & other.days
            if not shared or id(slot.range) in reported:
                continue
            if slot.start < other.end and other.start < slot.end:
                reported.add(id(slot.range))
                here = f"{slot.range.start.text}-{slot.range.end.text}"
                there = f"{other.range.start.text}-{other.range.end.text}"
                where = ("(earlier on this line)" if other.line is slot.line
                         else f"(line {other.line.span.line})")
                yield diagnostic(
                    "E502", f"the hours {here} overlap {there} {where} on {describe(shared)}",
                    slot.range.span,
                    help="each moment of the week belongs to one line; split or shorten the "
                         "ranges so they do not overlap (ranges may touch: 09:00-12:00 and "
                         "12:00-18:00)")


# the nodes _item looks at; every other class is only walked through
_VISITS = ast.ClassTable((
    (ast.Option, _option_visit),
    (ast.Time, _time_visit),
    (ast.Date, _date_visit),
    (ast.Collect, lambda node, check_options: _collect(node)),
    (ast.QueueDecl, lambda node, check_options: _choices(node.options, "queue")),
    (ast.Wait, _wait_visit),
    (ast.Number, _number_visit),
))
