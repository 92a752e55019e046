"""Turn pytest JUnit XML results into the Markdown compatibility report.

usage: compat_report.py --title T --out FILE --header-file H
                        --run LABEL=JUNIT_XML [--run LABEL=JUNIT_XML ...]

The first --run is the server under test (NoKV); later runs (real Redis) are the reference: a test
that fails on the reference too is marked so, since it is not NoKV's bug.  A run whose XML is
missing (the suite did not start) is reported as such.  The header file (Markdown written by the
calling script: command line, versions, date, machine, selection) is copied in first.
"""

import argparse
import os
import xml.etree.ElementTree as ET

REASON_CHARS = 220


def _one_line(text):
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line[:REASON_CHARS].replace("|", "\\|")
    return ""


def _outcome(case):
    """(outcome, reason) of one <testcase>."""
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        node = case.find(tag)
        if node is not None:
            reason = _one_line(node.get("message")) or _one_line(node.text)
            return outcome, reason
    return "passed", ""


def load_run(path):
    """{test id: (outcome, reason)} from a JUnit XML file, or None when it is missing."""
    if not os.path.exists(path):
        return None
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, reason = _outcome(case)
        # A teardown error after a pass is reported as a second entry for the same case.
        if test_id in results and results[test_id][0] in ("failed", "error"):
            continue
        results[test_id] = (outcome, reason)
    return results


def counts(results):
    tally = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome, _ in results.values():
        tally[outcome] += 1
    return tally


def summary_table(runs):
    lines = ["| server | selected | passed | failed | errors | skipped |", "|---|---:|---:|---:|---:|---:|"]
    for label, results in runs:
        if results is None:
            lines.append(f"| {label} (suite did not run: see the closing lines above) | - | - | - | - | - |")
            continue
        tally = counts(results)
        lines.append(
            f"| {label} | {len(results)} | {tally['passed']} | {tally['failed']} | {tally['error']} | {tally['skipped']} |"
        )
    return lines


def failure_table(label, results, references):
    bad = sorted((t, r) for t, (o, r) in results.items() if o in ("failed", "error"))
    lines = [f"### Failures on {label} ({len(bad)})", ""]
    if not bad:
        return lines + ["None.", ""]
    ref_cols = [ref_label for ref_label, _ in references]
    lines.append("| test | reason | " + " | ".join(f"on {c}" for c in ref_cols) + " |")
    lines.append("|---|---|" + "---|" * len(ref_cols))
    for test_id, reason in bad:
        ref_cells = []
        for _, ref in references:
            ref_cells.append("-" if ref is None else (ref.get(test_id, ("not run",))[0]))
        lines.append(f"| `{test_id}` | {reason} | " + " | ".join(ref_cells) + " |")
    return lines + [""]


def failure_reasons(label, results):
    """Failures grouped by their one-line reason, most frequent first: the causes at a glance."""
    reasons = {}
    for test_id, (outcome, reason) in results.items():
        if outcome in ("failed", "error"):
            reasons.setdefault(reason, []).append(test_id.rsplit("::", 1)[-1])
    if not reasons:
        return []
    lines = [f"### Failure reasons on {label}", ""]
    for reason, tests in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
        shown = ", ".join(f"`{t}`" for t in tests[:6]) + (", ..." if len(tests) > 6 else "")
        lines.append(f"- {len(tests)} x {reason or '(no message)'}: {shown}")
    return lines + [""]


def skip_reasons(label, results):
    reasons = {}
    for outcome, reason in results.values():
        if outcome == "skipped":
            reasons[reason] = reasons.get(reason, 0) + 1
    lines = [f"### Skip reasons on {label}", ""]
    if not reasons:
        return lines + ["None.", ""]
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        lines.append(f"- {count} x {reason or '(no reason given)'}")
    return lines + [""]


def passes_only_on(label, results, ref_label, ref):
    if results is None or ref is None:
        return []
    only = sorted(t for t, (o, _) in ref.items() if o == "passed" and results.get(t, ("",))[0] != "passed")
    lines = [f"### Passing on {ref_label} but not on {label} ({len(only)})", ""]
    lines += [f"- `{t}` ({results.get(t, ('not run',))[0]})" for t in only] or ["None."]
    return lines + [""]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--header-file", required=True)
    parser.add_argument("--run", action="append", required=True, help="LABEL=JUNIT_XML")
    args = parser.parse_args()
    runs = []
    for spec in args.run:
        label, path = spec.split("=", 1)
        runs.append((label, load_run(path)))
    with open(args.header_file, encoding="utf-8") as header:
        lines = [f"# {args.title}", "", header.read().rstrip(), "", "## Results", ""]
    lines += summary_table(runs) + [""]
    (label, ours), references = runs[0], runs[1:]
    for run_label, results in runs:
        if results is not None:
            lines += failure_reasons(run_label, results)
    for run_label, results in runs:
        if results is not None:
            lines += failure_table(run_label, results, [r for r in runs if r[0] != run_label])
    for ref_label, ref in references:
        lines += passes_only_on(label, ours, ref_label, ref)
    for run_label, results in runs:
        if results is not None:
            lines += skip_reasons(run_label, results)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    main()
