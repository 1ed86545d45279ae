"""Checks JUnit XML files against the structure of the common schema (Jenkins'
junit-10.xsd, which GitLab, GitHub report actions and junitparser read): which element may
hold which, the required attributes, numeric attribute types, and that the counts a suite
states match the testcases it holds. Standard library only (xml.etree).

Usage: python3 junit_schema.py FILE.xml [FILE.xml ...]
Prints "FILE: ok, N tests, M failures" per file; exit status 1 with the reasons otherwise.
"""

import re
import sys
import xml.etree.ElementTree as ET

# element -> (allowed children, required attributes, allowed attributes)
SCHEMA = {
    "testsuites": ({"testsuite"}, set(), {"name", "time", "tests", "failures", "disabled", "errors"}),
    "testsuite": (
        {"properties", "testcase", "system-out", "system-err"},
        {"name", "tests"},
        {"name", "tests", "failures", "errors", "time", "disabled", "skipped", "timestamp",
         "hostname", "id", "package", "file", "log", "url", "version", "group"},
    ),
    "properties": ({"property"}, set(), set()),
    "property": (set(), {"name", "value"}, {"name", "value"}),
    "testcase": (
        {"skipped", "error", "failure", "system-out", "system-err"},
        {"name"},
        {"name", "assertions", "time", "classname", "status", "group", "file", "line"},
    ),
    "failure": (set(), set(), {"message", "type"}),
    "error": (set(), set(), {"message", "type"}),
    "skipped": (set(), set(), {"message"}),
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}
INTEGER = {"tests", "failures", "errors", "disabled", "skipped", "assertions"}
DECIMAL = {"time"}
# xs:dateTime without a zone, as junit-10.xsd's ISO8601_DATETIME_PATTERN asks.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def check(element, path, problems):
    children, required, allowed = SCHEMA[element.tag]
    here = f"{path}/{element.tag}"
    for name in required - set(element.attrib):
        problems.append(f"{here}: missing attribute {name}")
    for name, value in element.attrib.items():
        if name not in allowed:
            problems.append(f"{here}: attribute {name} is not in the schema")
        elif name in INTEGER and not re.fullmatch(r"\d+", value):
            problems.append(f"{here}: {name}={value!r} is not a non-negative integer")
        elif name in DECIMAL and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            problems.append(f"{here}: {name}={value!r} is not a decimal")
        elif name == "timestamp" and value and not TIMESTAMP.match(value):
            problems.append(f"{here}: timestamp={value!r} is not YYYY-MM-DDThh:mm:ss")
    for child in element:
        if child.tag not in children:
            problems.append(f"{here}: <{child.tag}> may not appear here")
        else:
            check(child, here, problems)


def counts(suite):
    cases = suite.findall("testcase")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    return len(cases), failures, errors


def check_file(name):
    root = ET.parse(name).getroot()
    if root.tag not in ("testsuites", "testsuite"):
        return [f"root element is <{root.tag}>, not <testsuites> or <testsuite>"], 0, 0
    problems = []
    check(root, "", problems)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = [0, 0, 0]
    for suite in suites:
        found = counts(suite)
        for key, value in zip(("tests", "failures", "errors"), found):
            stated = suite.get(key)
            if stated is not None and stated.isdigit() and int(stated) != value:
                problems.append(f"testsuite {suite.get('name')}: {key}={stated} but {value} found")
        total = [a + b for a, b in zip(total, found)]
    if root.tag == "testsuites":
        for key, value in zip(("tests", "failures", "errors"), total):
            stated = root.get(key)
            if stated is not None and stated.isdigit() and int(stated) != value:
                problems.append(f"testsuites: {key}={stated} but {value} found")
    return problems, total[0], total[1]


def main(files):
    status = 0
    for name in files:
        problems, tests, failures = check_file(name)
        if problems:
            status = 1
            for p in problems:
                print(f"{name}: {p}", file=sys.stderr)
        else:
            print(f"{name}: ok, {tests} tests, {failures} failures")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
