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
    from grader.report_terminal import render_check, render_header, render_total
    from grader.sandbox.launcher import SandboxUnavailable

    path = submission if submission is not None else Path("exercises") / name
    if not path.exists():
        raise click.UsageError(f"{path} does not exist; run `grade {name}` in your course folder "
                               f"or pass --submission PATH")
    if data_dir is not None:
        os.environ["MNIST_DATA_DIR"] = str(data_dir)
    os.environ["GRADER_DEVICE"] = device
    click.echo(click.style(f"{name}: grading {path}", bold=True))
    try:
        result = grade_submission(name, path, isolation=isolation,
                                  progress=lambda check: click.echo(render_check(check)))
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if result.error:
        click.echo(render_header(result))
    click.echo(render_total(result))
    if json_path:
        result.write_json(json_path)
        click.echo(f"Wrote {json_path}")
    if html_path:
        from grader.report_html import write_report

        audience = "instructor" if any(c.visibility == "hidden" for c in result.checks) else "student"
        write_report(result, html_path, audience=audience)
        click.echo(f"Wrote {html_path}")


for _name in EXERCISES:
    main.add_command(_exercise_command(_name))


def run() -> None:
    """Console entry point: user errors become one line on stderr (exit 2 for usage errors)."""
    try:
        main.main(standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"grade: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"grade: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("grade: aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    run()
