"""`ccf test --junit FILE`: the run as the JUnit XML that CI systems read (Jenkins'
junit-10.xsd, plus the `file` and `line` of each testcase that GitLab and GitHub's
annotating actions use). Runs nothing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ccdsl.runtime.testing.case_report import (
    DESELECTED,
    ERROR,
    NOT_RUN,
    PASSED,
    CaseReport,
    totals,
)

# what XML 1.0 cannot hold at all, even escaped (a control character in a CRM value that
# an error message quotes): written as \xNN so the report still parses
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

NOT_RUN_MESSAGE = "not run: --fail-fast stopped the run at the first failure"


def junit_xml(cases: list[CaseReport], *, suite_seconds: dict[str, float], seconds: float,
              timestamp: str, hostname: str) -> str:
    """One testsuite per flow that has tests in the run, one testcase per selected test.
    A deselected test is left out, as pytest leaves it; a flow without tests (a module)
    is no suite at all."""
    root = ET.Element("testsuites", name="ccf test")
    suites: dict[str, list[CaseReport]] = {}
    for case in cases:
        if case.outcome != DESELECTED:
            suites.setdefault(case.flow, []).append(case)
    counted = {"tests": 0, "failures": 0, "errors": 0}
    for flow, members in suites.items():
        of_suite = totals(members, 0.0)
        counts = {"tests": of_suite.tests, "failures": of_suite.failed,
                  "errors": of_suite.errors, "skipped": of_suite.not_run}
        suite = ET.SubElement(root, "testsuite", name=flow,
                              **{key: str(value) for key, value in counts.items()},
                              time=_seconds(suite_seconds.get(flow, 0.0)),
                              timestamp=timestamp, hostname=hostname, file=flow)
        for case in members:
            _testcase(suite, case)
        for key in counted:
            counted[key] += counts[key]
    for key, value in counted.items():
        root.set(key, str(value))
    root.set("time", _seconds(seconds))
    ET.indent(root)
    for element in root.iter():
        element.text = _safe(element.text)
        for key, value in element.attrib.items():
            element.set(key, _safe(value))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def _testcase(suite: ET.Element, case: CaseReport) -> None:
    element = ET.SubElement(suite, "testcase", classname=classname(case.flow), name=case.name,
                            file=case.file, line=str(case.line), time=_seconds(case.seconds))
    if case.outcome == PASSED:
        return
    if case.outcome == NOT_RUN:
        ET.SubElement(element, "skipped", message=NOT_RUN_MESSAGE)
        return
    message = "; ".join(f.message for f in case.failures) or case.outcome
    lines = [f"{f.file}:{f.line}: {f.message}" + (f": {f.happened}" if f.happened else "")
             for f in case.failures]
    if case.details:
        lines.append(case.details.rstrip("\n"))
    if case.outcome == ERROR:
        kind = "compile" if case.details else "setup"
        ET.SubElement(element, "error", message=message, type=kind).text = "\n".join(lines) + "\n"
    else:
        ET.SubElement(element, "failure", message=message,
                      type="expectation").text = "\n".join(lines) + "\n"
    if case.trace:
        ET.SubElement(element, "system-out").text = case.trace


def classname(flow: str) -> str:
    """The flow's path as dotted words, as GitLab shows a testcase's suite."""
    stem = flow[: -len(".ccf")] if flow.endswith(".ccf") else flow
    return stem.replace("\\", "/").replace("/", ".").lstrip(".")


def _safe(text: str | None) -> str | None:
    return NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if text else text


def _seconds(value: float) -> str:
    return f"{value:.4f}"
