"""JUnit XML for CI test reports (GitHub test reporters, GitLab `artifacts:reports:junit`).

One `<testsuite>` per kind of result: `reconcile smoke` has one `<testcase>` per smoke-tested
endpoint (name = inference id, classname = service.task_type, time in seconds), failed ones
with a `<failure>` that carries the reason; `reconcile apply` has one per endpoint change the
apply executed (blocked changes fail, as they fail the apply). The input is the renderers'
dicts, whose messages were sanitized where they were made: no secret reaches this module.
The element and attribute names are those of the JUnit schema most CI systems read
(https://github.com/testmoapp/junitxml).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DEFAULT_SERVICE = "openai"


def smoke_suite(results: Iterable[Mapping[str, Any]]) -> ET.Element:
    """The smoke tests as a suite: one case per endpoint, failed ones with the reason."""
    suite = ET.Element("testsuite", name="reconcile smoke")
    for result in results:
        case = _case(suite, result, float(result.get("latency_ms") or 0.0) / 1000)
        if not result.get("ok"):
            _fail(case, "smoke test failed", str(result.get("detail", "")))
        else:
            ET.SubElement(case, "system-out").text = str(result.get("detail", ""))
    return _counted(suite)


def apply_suite(results: Iterable[Mapping[str, Any]]) -> ET.Element:
    """The executed changes as a suite: failed and blocked changes are failures."""
    suite = ET.Element("testsuite", name="reconcile apply")
    for result in results:
        case = _case(suite, result, float(result.get("duration_ms") or 0.0) / 1000)
        case.set("name", f"{result.get('action', '')} {result.get('inference_id', '')}".strip())
        status, message = str(result.get("status", "")), str(result.get("message", ""))
        if status in ("failed", "blocked"):
            _fail(case, f"{result.get('action', 'change')} {status}", message)
        else:
            ET.SubElement(case, "system-out").text = message
    return _counted(suite)


def document(suites: Sequence[ET.Element], name: str) -> str:
    """The `<testsuites>` document, with totals, as UTF-8 text with an XML declaration."""
    root = ET.Element("testsuites", name=name)
    for suite in suites:
        root.append(suite)
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    root.set("time", _seconds(sum(float(s.get("time", "0")) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, result: Mapping[str, Any], seconds: float) -> ET.Element:
    service = str(result.get("service") or DEFAULT_SERVICE)
    return ET.SubElement(
        suite,
        "testcase",
        name=str(result.get("inference_id", "")),
        classname=f"{service}.{result.get('task_type', '')}",
        time=_seconds(seconds),
    )


def _fail(case: ET.Element, message: str, text: str) -> None:
    failure = ET.SubElement(case, "failure", message=message, type="failure")
    failure.text = text


def _counted(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", _seconds(sum(float(c.get("time", "0")) for c in cases)))
    return suite


def _seconds(value: float) -> str:
    return f"{value:.3f}"
