"""`ccf test --format json`: the run as one JSON document, which
test-report.schema.json describes and docs/testing.md explains. Runs nothing."""

from __future__ import annotations

from dataclasses import asdict

from ccdsl.runtime.testing.case_report import CaseReport, totals

REPORT_VERSION = 1
SCHEMA_FILE = "test-report.schema.json"  # beside this module, shipped as package data


def report_document(cases: list[CaseReport], *, seconds: float, exit_status: int,
                    via: str, selection: str | None) -> dict:
    """Every test in the order it was collected, deselected ones too, with the totals."""
    counts = totals(cases, seconds)
    return {
        "version": REPORT_VERSION,
        "via": via,
        "selection": selection,
        "exit_status": exit_status,
        "totals": {
            "tests": counts.tests, "passed": counts.passed, "failed": counts.failed,
            "errors": counts.errors, "not_run": counts.not_run,
            "deselected": counts.deselected, "seconds": round(seconds, 4),
        },
        "tests": [_case(case) for case in cases],
    }


def _case(case: CaseReport) -> dict:
    return {
        "id": case.id, "flow": case.flow, "file": case.file, "name": case.name,
        "line": case.line, "outcome": case.outcome, "seconds": round(case.seconds, 4),
        "failures": [asdict(failure) for failure in case.failures],
        "details": case.details or None,
        "trace": case.trace or None,
    }


def schema() -> dict:
    import json
    from importlib import resources

    text = (resources.files("ccdsl.runtime.testing") / SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)
