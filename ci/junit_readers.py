#!/usr/bin/env python3
"""Reads a chaos-gate JUnit report the way real consumers do.

    python3 ci/junit_readers.py REPORT EXPECTED_TESTS EXPECTED_FAILURES TEXT

- junitparser (PyPI), as CI dashboards built on it read the report: suite
  and case counts, and the failure's message naming TEXT;
- GitLab's parser rules (lib/gitlab/ci/parsers/test/junit.rb): a case's
  status comes from its failure/error/skipped child, and what GitLab shows
  for it is that child's text (not its message attribute), so every such
  child must carry its reason as text.
Exits non-zero, saying what differs.
"""
import sys
import xml.etree.ElementTree as ET

from junitparser import Error, Failure, JUnitXml, Skipped


def main() -> int:
    path, tests, failures, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    problems = []

    xml = JUnitXml.fromfile(path)
    suites = list(xml) if hasattr(xml, "__iter__") else [xml]
    if len(suites) != 1 or suites[0].name != "chaos-gate":
        problems.append(f"junitparser: expected one suite chaos-gate, got {[s.name for s in suites]}")
    suite = suites[0]
    cases = list(suite)
    failed = [c for c in cases if any(isinstance(r, (Failure, Error)) for r in c.result)]
    if suite.tests != tests or len(cases) != tests:
        problems.append(f"junitparser: {suite.tests} tests ({len(cases)} cases), expected {tests}")
    if suite.failures != failures or len(failed) != failures:
        problems.append(f"junitparser: {suite.failures} failures ({len(failed)} cases), expected {failures}")
    if not any(text in (r.message or "") for c in failed for r in c.result):
        problems.append(f"junitparser: no failure message names {text!r}")

    # GitLab's rules: the shown reason is the child's text.
    for case in ET.parse(path).getroot().iter("testcase"):
        for child in case:
            if child.tag in ("failure", "error", "skipped") and not (child.text or "").strip():
                problems.append(
                    f"GitLab: {case.get('classname')} / {case.get('name')}: <{child.tag}> has no text to show"
                )
        if case.get("classname") is None or case.get("name") is None:
            problems.append("GitLab: a case without classname or name")

    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
