"""The `grade` command: a thin click layer over grader.grading and friends.

It parses options, calls library functions, prints what they return, and turns user errors
into one line and exit status 2. It holds no grading logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.catalog import EXERCISES, get_exercise


class GradeGroup(click.Group):
    """Unknown commands get a one-line message that lists the exercises."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            raise click.UsageError(f"unknown exercise or command {name!r}; exercises: {', '.join(EXERCISES)}; "
                                   f"commands: {', '.join(c for c in self.commands if c not in EXERCISES)}") from None


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grade deep-learning exercises: `grade exercise1` checks your exercises/exercise1/."""


@main.command("list")
def list_exercises() -> None:
    """List the exercises with their topics and points."""
    from grader.runner import list_checks

    for exercise in EXERCISES.values():
        checks = list_checks(exercise)
        points = sum(c[1] for c in checks)
        click.echo(f"{exercise.name:<10} {points:>5g} pts  {len(checks):>3} checks  {exercise.topic}")


def _exercise_command(name: str) -> click.Command:
    exercise = get_exercise(name)

    @click.command(name, help=f"Grade {name} ({exercise.topic}).")
    @click.option("--submission", type=click.Path(path_type=Path), default=None,
                  help=f"A folder, {exercise.module}.py, a notebook or a .zip (default: exercises/{name}/).")
    @click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
                  help="Also write the result as JSON to this file.")
    @click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
                  help="Also write an HTML feedback report to this file.")
    @click.option("--isolation", type=click.Choice(["auto", "bwrap", "process"]), default="auto",
                  show_default=True, help="How strongly to isolate the student's code.")
    @click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                  help="Where timed PyTorch training runs (exercise 7).")
    @click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                  help="Folder with the MNIST IDX files (else $MNIST_DATA_DIR, else ~/.cache/dlgrader/mnist).")
    def command(submission, json_path, html_path, isolation, device, data_dir):
        grade_one(name, submission, json_path, html_path, isolation, device, data_dir)

    return command


def grade_one(name, submission, json_path, html_path, isolation, device, data_dir) -> None:
    import os

    from grader.grading import grade_submission
    from grader.report_terminal import check_line, render
    from grader.sandbox.launcher import SandboxUnavailable

    exercise = get_exercise(name)
    path = submission if submission is not None else Path("exercises") / name
    if not path.exists():
        raise click.UsageError(f"{path} does not exist; run `grade {name}` in your course folder "
                               f"or pass --submission PATH")
    if data_dir is not None:
        os.environ["MNIST_DATA_DIR"] = str(data_dir)
    os.environ["GRADER_DEVICE"] = device
    click.echo(f"Grading {name} from {path} …", err=True)
    try:
        result = grade_submission(name, path, isolation=isolation,
                                  progress=lambda check: click.echo(check_line(check), err=True))
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render(result))
    if json_path:
        result.write_json(json_path)
        click.echo(f"Wrote {json_path}", err=True)
    if html_path:
        from grader.report_html import write_report

        write_report(result, html_path, audience="student" if not any(
            c.visibility == "hidden" for c in result.checks) else "instructor")
        click.echo(f"Wrote {html_path}", err=True)


for _name in EXERCISES:
    main.add_command(_exercise_command(_name))


if __name__ == "__main__":
    sys.exit(main())
