"""Report: a result in Gradescope's autograder format, and the entry point its container runs.

Gradescope runs `/autograder/run_autograder` once per submission and reads
`/autograder/results/results.json`: a top-level `score`, `execution_time`, `output`, and
`tests`, each with `name`, `score`, `max_score`, `status`, `output` and `visibility`
("visible", "hidden", "after_due_date" or "after_published"). Public checks are
"visible"; hidden checks default to "after_published", so students see them once the
instructor publishes grades (pass `hidden_visibility="hidden"` to never show them).

In the container (see docs/gradescope.md):

    python -m grader.report.gradescope exercise1 /autograder/submission /autograder/results/results.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.results import CheckResult, GradeResult, write_atomic

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
OUTPUT_LIMIT = 4000
"""Characters of the student's printed output copied into results.json."""


def entry_for_check(check: CheckResult, hidden_visibility: str) -> dict:
    lines = [check.message] if check.message and not check.passed else []
    details = check.details or {}
    for key, label in (("inputs", "Input"), ("expected", "Expected"), ("got", "Got")):
        if details.get(key) not in (None, "") and str(details[key]) not in check.message:
            lines.append(f"{label}: {details[key]}")
    if check.hint and not check.passed:
        lines.append(f"Hint: {check.hint}")
    return {
        "name": check.title or check.name,
        "name_format": "text",
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if check.passed else "failed",
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible" if check.visibility == "public" else hidden_visibility,
        "tags": [check.name, check.visibility] + ([] if check.status != "error" else ["could-not-run"]),
    }


def gradescope_json(result: GradeResult, *, hidden_visibility: str = "after_published") -> dict:
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {VISIBILITIES}")
    output = result.output or ""
    if len(output) > OUTPUT_LIMIT:
        output = output[:OUTPUT_LIMIT] + f"\n… {len(result.output) - OUTPUT_LIMIT} more characters not shown"
    head = f"{result.exercise}: {result.score:g} / {result.max_score:g}"
    if result.error:
        head += f"\nThis submission could not be graded: {result.error}"
    body = f"\n\nYour code printed:\n{output}" if output.strip() else ""
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": head + body,
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [entry_for_check(c, hidden_visibility) for c in result.checks],
        "extra_data": {"exercise": result.exercise, "max_score": result.max_score, "status": result.status,
                       "isolation": result.isolation, "submission_hash": result.submission_hash},
    }


def write_gradescope(result: GradeResult, path: Path, *, hidden_visibility: str = "after_published") -> None:
    import json

    write_atomic(Path(path), json.dumps(gradescope_json(result, hidden_visibility=hidden_visibility), indent=2))


def main(argv: list[str] | None = None) -> int:
    """Grade one submission and write Gradescope's results.json; exit 0 whatever the score."""
    parser = argparse.ArgumentParser(prog="python -m grader.report.gradescope", description=main.__doc__)
    parser.add_argument("exercise", help="exercise1 … exercise7")
    parser.add_argument("submission", type=Path, help="the student's submission, e.g. /autograder/submission")
    parser.add_argument("results", type=Path, nargs="?", default=Path("/autograder/results/results.json"))
    parser.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published")
    parser.add_argument("--isolation", choices=("auto", "bwrap", "process"), default="auto")
    parser.add_argument("--html", type=Path, default=None, help="also write the student's HTML report here")
    args = parser.parse_args(argv)

    from grader.catalog import UnknownExercise, get_exercise
    from grader.pipeline import grade_submission

    try:
        get_exercise(args.exercise)
    except UnknownExercise as exc:
        parser.error(str(exc))
    from grader.sandbox.launcher import SandboxUnavailable

    try:
        result = grade_submission(args.exercise, args.submission, isolation=args.isolation)
    except SandboxUnavailable as exc:  # the container's fault, not the student's: fail loudly, no zero
        print(f"grader.report.gradescope: {exc}", file=sys.stderr)
        return 1
    write_gradescope(result, args.results, hidden_visibility=args.hidden_visibility)
    if args.html:
        from grader.report.html import write_report

        write_report(result, args.html, audience="student")
    print(f"{args.exercise}: {result.score:g} / {result.max_score:g} -> {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
