"""The `grade` command: a thin click layer over grader.pipeline and friends.

It parses options, calls library functions, prints what they return, and turns user errors
into one line and exit status 2. It holds no grading logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.catalog import EXERCISES, get_exercise
from grader.course.commands import course_batch_options, course_gradebook_options, feedback
from grader.report.gradescope import VISIBILITIES
from grader.i18n import LANGUAGES, _, choose_language, current_language, use_language
from grader.options import DEVICES, ISOLATION_LEVELS, GradingOptions, Limits


class GradeGroup(click.Group):
    """Unknown commands get a one-line message that lists the exercises."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            commands = ", ".join(c for c in self.commands if c not in EXERCISES)
            raise click.UsageError(_("unknown exercise or command {name}; exercises: {exercises}; commands: {commands}")
                                   .format(name=repr(name), exercises=", ".join(EXERCISES), commands=commands)) from None


def isolation_option(func):
    return click.option("--isolation", type=click.Choice(ISOLATION_LEVELS), default="auto", show_default=True,
                        help="How strongly to isolate the student's code (docs/security.md).")(func)


def require_data_dir(data_dir: Path | None) -> None:
    """A --data-dir that does not exist here is a usage error (one line): it is only read, never
    created or downloaded into. (A cluster batch checks it on the workers, which read it.)"""
    if data_dir is not None and not data_dir.is_dir():
        raise click.UsageError(f"--data-dir {data_dir} does not exist; check the path (the MNIST folder you name "
                               f"is only read, never created or downloaded into)")


def language_option(func):
    """--lang: the language of what this command prints and writes (grader/i18n.py); without it,
    the course file's, else the user's locale, else English. Set before the command runs."""

    def choose(ctx, param, value):
        from grader.course.roster import course_language

        try:
            return use_language(choose_language(value, course=course_language(Path.cwd())))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return click.option("--lang", type=click.Choice(LANGUAGES), default=None, expose_value=False, is_eager=True,
                        callback=choose, help="Language of messages and reports: ko or en.")(func)


def grading_options(func):
    """--isolation, --device, --data-dir and --lang: the options every grading command takes."""
    func = language_option(func)
    func = click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                        help="Folder with the MNIST IDX files (else $MNIST_DATA_DIR, else "
                             "~/.cache/dlgrader/mnist). Only read: it must exist, and nothing is downloaded "
                             "into it.")(func)
    func = click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
                        help="Where timed PyTorch training runs (exercise 7).")(func)
    return isolation_option(func)


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grade deep-learning exercises: `grade exercise1` checks your exercises/exercise1/."""


@main.command("list")
def list_exercises() -> None:
    """List the exercises with their topics and points."""
    from grader.checks.runner import list_checks

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
    @grading_options
    def command(submission, json_path, html_path, isolation, device, data_dir):
        require_data_dir(data_dir)
        options = GradingOptions(isolation=isolation, device=device, data_dir=data_dir, language=current_language())
        grade_one(name, submission, json_path, html_path, options)

    return command


def grade_one(name: str, submission: Path | None, json_path: Path | None, html_path: Path | None,
              options: GradingOptions) -> None:
    from grader.pipeline import ChecksUnavailable, grade
    from grader.report.terminal import RunningCheck, render_check_once
    from grader.sandbox.launcher import SandboxUnavailable

    path = submission if submission is not None else Path("exercises") / name
    if not path.exists():
        raise click.UsageError(f"{path} does not exist; run `grade {name}` in your course folder "
                               f"or pass --submission PATH")
    click.echo(click.style(f"{name}: grading {path}", bold=True))
    try:
        running = RunningCheck(sys.stdout)
        seen: set[str] = set()

        def finished(check) -> None:
            running.finished()
            click.echo(render_check_once(check, seen))

        graded = grade(name, path, options=options, progress=finished, started=running.started)
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except ChecksUnavailable as exc:
        raise click.UsageError(str(exc)) from None
    write_and_say(graded, one_student_targets(graded, json_path, html_path))


def one_student_targets(graded, json_path: Path | None, html_path: Path | None) -> list:
    """`grade exerciseN`'s outputs: the terminal's summary, the JSON and HTML asked for, and
    beside the HTML, for a notebook, feedback-<exercise>-<notebook>.html (the notebook with its verdicts)."""
    from grader.report.notebook_feedback import feedback_file_name, notebook_in
    from grader.report.outputs import Target

    targets = [Target.terminal(sys.stdout)]
    if json_path:
        targets.append(Target.json(json_path))
    if html_path:
        hidden = any(c.visibility == "hidden" for c in graded.result.checks)
        targets.append(Target.html(html_path, "instructor" if hidden else "student"))
        if graded.hand_in is not None and notebook_in(graded.hand_in) is not None:
            targets.append(Target.feedback(html_path.with_name(feedback_file_name(graded.result.exercise,
                                                                                  graded.hand_in))))
    return targets


def write_and_say(graded, targets: list) -> None:
    """Write the targets and say what was written, and why any file was not."""
    from grader.report.outputs import write_outputs

    written = write_outputs(graded.result, graded.hand_in, targets)
    for path in written.files:
        click.echo(f"Wrote {path}")
    for kind, problem in written.problems.items():
        click.echo(f"{'feedback inside the notebook' if kind == 'feedback' else kind} not written: {problem}")


@main.command("batch")
@course_batch_options
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--exercise", "exercise_name", required=True, help="The exercise every submission is graded as.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for gradebook.csv, summary.html and one folder per student.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers (default: one per core; one for the PyTorch exercise).")
@click.option("--force", is_flag=True, help="Regrade every student, even those whose submission did not change.")
@click.option("--format", "formats", type=click.Choice(["gradescope"]), multiple=True,
              help="Also write each student's result in this format (gradescope: OUT/<student>/gradescope.json).")
@click.option("--cluster", metavar="tls://HOST:PORT", default=None,
              help="Grade on the workers of this Dask scheduler instead of local workers (docs/cluster.md; "
                   "needs pip install -e .[cluster]). tcp:// only on this machine unless --insecure-cluster.")
@click.option("--cluster-certs", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The folder `grade cluster certs` wrote; needed for a tls:// scheduler.")
@click.option("--cluster-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for the scheduler's first answer.")
@click.option("--insecure-cluster", is_flag=True,
              help="Allow a plain tcp:// scheduler on another machine (anyone who reaches it can run code there).")
@click.option("--similarity", is_flag=True,
              help="Also compare the submissions for copies: OUT/similarity.html and .csv (see `grade similarity`).")
@grading_options
@click.option("--check-timeout", type=float, default=None, hidden=True,
              help="Tests only: seconds per check (the submission gets three times as long).")
def batch(submissions, exercise_name, out, jobs, force, formats, cluster, cluster_certs, cluster_timeout,
          insecure_cluster, similarity, isolation, device, data_dir, check_timeout) -> None:
    """Grade every student in SUBMISSIONS (one folder, .py, .ipynb or .zip each).

    Writes OUT/gradebook.csv, OUT/summary.html and per student OUT/<student>/result.json,
    report.html (the student's copy) and instructor.html. A rerun skips students whose
    submission is unchanged, so an interrupted batch continues where it stopped. With
    --cluster, the students are graded on a Dask cluster and OUT is written the same way.
    """
    from grader.batch.run import BatchError, ProgressLine, run_batch

    if exercise_name not in EXERCISES:
        raise click.UsageError(f"unknown exercise {exercise_name!r}; exercises: {', '.join(EXERCISES)}")
    if not submissions.is_dir():
        raise click.UsageError(f"{submissions} is not a folder; pass the folder that holds one entry per student")
    if not cluster:
        require_data_dir(data_dir)
    line = ProgressLine(sys.stderr, label=exercise_name)
    options = GradingOptions(isolation=isolation, device=device, data_dir=data_dir,
                             limits=Limits.for_check_timeout(check_timeout), language=current_language())
    if cluster and jobs:
        raise click.UsageError("--jobs is for local workers; with --cluster, start as many Dask workers as you need")
    if (cluster_certs or insecure_cluster) and not cluster:
        raise click.UsageError("--cluster-certs and --insecure-cluster go with --cluster")
    from grader.cluster_security import ClusterSetupError, cluster_access

    try:
        if cluster:
            from grader.batch.cluster import run_cluster_batch

            access, warnings = cluster_access(cluster, certs=cluster_certs, insecure=insecure_cluster,
                                              timeout=cluster_timeout)
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
            report = run_cluster_batch(submissions, exercise_name, out, scheduler=access, options=options,
                                       force=force, formats=tuple(formats), progress=line, similarity=similarity)
        else:
            report = run_batch(submissions, exercise_name, out, options=options, jobs=jobs, force=force,
                               formats=tuple(formats), progress=line, similarity=similarity)
    except ClusterSetupError as exc:
        raise click.UsageError(str(exc)) from None
    except BatchError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        line.close()  # also restores the terminal's cursor, which the progress bar hides
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{report.exercise}: {report.students} students — {report.graded} graded, {report.skipped} unchanged"
               + (f", {report.errors} could not be graded ({names(report.not_graded, out)})" if report.errors else "")
               + (f", {report.pending} not graded yet" if report.interrupted else "")
               + f" ({report.seconds:.1f} s)")
    for student, other in sorted(report.other_exercise.items()):
        click.echo(f"{student}: probably {other}, not {report.exercise} (defines {other}'s functions and none of "
                   f"this exercise's)", err=True)
    click.echo(f"Wrote {out / 'gradebook.csv'} and {out / 'summary.html'}"
               + (f" and {out / 'similarity.html'}" if similarity and (out / "similarity.html").is_file() else ""))
    if report.incomplete:
        click.echo(f"{report.incomplete} students have checks the grader could not run (a problem of this machine, "
                   f"not of their code; see summary.html). Fix it and rerun the same command: exactly those "
                   f"students are graded again.", err=True)
    if report.interrupted:
        click.echo("Interrupted: rerun the same command to grade the rest.", err=True)
        sys.exit(130)


@main.command("similarity")
@click.argument("out", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Share of the smaller submission's code two must have in common to be listed (default 0.6).")
def similarity_command(out, threshold) -> None:
    """Compare the submissions of a batch's OUT folder for copies: writes OUT/similarity.html
    (clusters, and each pair side by side with the matching lines marked) and OUT/similarity.csv.
    Renamed variables and rewritten comments do not hide a copy; the handout's code is left out.
    The class summary shows the clusters from the next `grade batch` on."""
    from grader.course.similarity import THRESHOLD, SimilarityError, write_similarity

    try:
        report = write_similarity(out, threshold=THRESHOLD if threshold is None else threshold)
    except SimilarityError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{report.students} submissions compared in {report.seconds:.1f} s: {len(report.pairs)} pairs in "
               f"{len(report.clusters)} clusters at or above {report.threshold:.0%}")
    for number, students in enumerate(report.clusters[:5], start=1):
        click.echo(f"  cluster {number}: {', '.join(students)}")
    click.echo(f"Wrote {out / 'similarity.html'} and {out / 'similarity.csv'}")


def names(students: list[str], out: Path, most: int = 5) -> str:
    """"ana, bo" or, for a long list, the first few and where the rest are listed."""
    shown = ", ".join(sorted(students)[:most])
    return shown if len(students) <= most else f"{shown}, … — all in {out / 'summary.html'}, 'Counted once'"


def _instructor_only() -> bool:
    """The students' bundle has no reference/: its `grade` hides the instructor's commands."""
    from grader.catalog import REFERENCE_ROOT

    return not REFERENCE_ROOT.is_dir()


@main.command("gradescope", hidden=_instructor_only())
@click.argument("exercise_name", metavar="EXERCISE", type=click.Choice(list(EXERCISES)))
@click.argument("submission", type=click.Path(path_type=Path))
@click.argument("results", type=click.Path(path_type=Path), required=False,
                default=Path("/autograder/results/results.json"))
@click.option("--hidden-visibility", type=click.Choice(VISIBILITIES),
              default="after_published", show_default=True, help="When students see the hidden checks.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write the student's HTML report here.")
@grading_options
def gradescope(exercise_name, submission, results, hidden_visibility, html_path, isolation, device, data_dir) -> None:
    """Inside Gradescope's container: grade SUBMISSION and write RESULTS (Gradescope's results.json).

    Exits 0 whatever the score; 1 when the container cannot run the sandbox (not the student's fault)."""
    from grader.pipeline import ChecksUnavailable, grade
    from grader.report.outputs import Target, write_outputs
    from grader.sandbox.launcher import SandboxUnavailable

    require_data_dir(data_dir)
    options = GradingOptions(isolation=isolation, device=device, data_dir=data_dir, language=current_language())
    try:
        graded = grade(exercise_name, submission, options=options)
    except (SandboxUnavailable, ChecksUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    targets = [Target.gradescope(results, hidden_visibility)] + ([Target.html(html_path, "student")] if html_path else [])
    write_outputs(graded.result, graded.hand_in, targets)
    click.echo(f"{exercise_name}: {graded.result.score:g} / {graded.result.max_score:g} -> {results}")


@main.command("gradebook")
@course_gradebook_options
@click.argument("outs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help="The merged CSV to write.")
def gradebook(outs, out_file) -> None:
    """Merge the gradebooks of several batch outputs (OUT folders) into one, with a total per student."""
    from grader.report.gradebook import GradebookError, merge_gradebooks
    from grader.results import write_atomic

    try:
        merged = merge_gradebooks(list(outs))
    except GradebookError as exc:
        raise click.UsageError(str(exc)) from None
    write_atomic(out_file, merged.csv())
    click.echo(f"Wrote {out_file}: {len(merged.students)} students, {', '.join(merged.exercises)}")


def _require_course_repository(command: str) -> None:
    if _instructor_only():
        raise click.UsageError(f"`grade {command}` is for instructors: it needs the course repository "
                               f"with its reference/ folder")


def _exercise_names(names: tuple[str, ...]) -> list[str] | None:
    unknown = [n for n in names if n not in EXERCISES]
    if unknown:
        raise click.UsageError(f"unknown exercise {unknown[0]!r}; exercises: {', '.join(EXERCISES)}")
    return list(names) or None


@main.command("release", hidden=_instructor_only())
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write the bundle (OUT/dlcourse/) and its zip (OUT/dlcourse.zip) to.")
@click.option("--exercise", "exercises", multiple=True,
              help="Release only this exercise (repeat for several); default: every exercise that is ready.")
@click.option("--no-cases", is_flag=True,
              help="Record the reference's answers only, not the diagnoses the checks give tests/cases/ (quicker).")
@click.option("--no-verify", is_flag=True, help="Skip grading the reference with the bundle's own grader.")
@isolation_option
def release(out, exercises, no_cases, no_verify, isolation) -> None:
    """Write the students' bundle: stubs, notebooks, public checks and a `grade` without references
    or hidden checks, plus a .zip of it."""
    from grader.course.release import ReleaseError, build_release

    _require_course_repository("release")
    try:
        made = build_release(out, _exercise_names(exercises), record_cases=not no_cases, verify=not no_verify,
                             isolation=isolation, progress=lambda message: click.echo(message, err=True))
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    for entry in made.exercises:
        if entry.skipped:
            click.echo(f"  {entry.name:<10} not released: {entry.skipped}")
        else:
            click.echo(f"  {entry.name:<10} {len(entry.public_checks):>3} public checks")
        for check, why in entry.kept_back.items():
            click.echo(f"  {'':<10}     kept back {check}: {why}")
    click.echo(f"Wrote {made.folder}" + (f" and {made.archive}" if made.archive else ""))


@main.command("check-course", hidden=_instructor_only())
@click.option("--exercise", "exercises", multiple=True, help="Check only this exercise (repeat for several).")
@click.option("--no-cases", is_flag=True, help="Only the interface, the reference and the stub, not tests/cases.")
@click.option("--mutants", is_flag=True, help="Measure the checks' strength: grade mutants of each reference.")
@click.option("--per-operator", type=int, default=None, help="With --mutants: at most this many mutants per "
                                                             "operator (a deterministic sample).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --mutants: also write the report as an HTML page, survivors shown as diffs.")
@isolation_option
def check_course_command(exercises, no_cases, mutants, per_operator, html_path, isolation) -> None:
    """After editing an exercise: the reference must get full marks, the stub zero, every buggy case in
    tests/cases/ must lose points (and every ok_ case none); exit status 1 when something is off.
    With --mutants: the mutation report instead; exit status 1 when a mutant survives."""
    from grader.course.course_check import check_course, check_mutants, format_table

    _require_course_repository("check-course")
    if mutants:
        reports, text = check_mutants(_exercise_names(exercises), per_operator=per_operator, isolation=isolation,
                                      html_path=html_path,
                                      progress=lambda r: click.echo(f"  {r.outcome} {r.mutant.exercise} "
                                                                    f"{r.mutant.key}", err=True))
        click.echo(text)
        if html_path:
            click.echo(f"Wrote {html_path}")
        if any(r.count("survived") for r in reports):
            sys.exit(1)
        return
    mark = {True: click.style("ok", fg="green"), False: click.style("OFF", fg="red", bold=True)}
    rows = check_course(_exercise_names(exercises), cases=not no_cases, isolation=isolation,
                        progress=lambda row: click.echo(f"  {mark[row.ok]} {row.exercise} {row.submission} "
                                                        f"{row.got}", err=True))
    click.echo(format_table(rows))
    if not all(row.ok for row in rows):
        sys.exit(1)


main.add_command(feedback)


@main.group("cluster")
def cluster_commands() -> None:
    """Set up a grading cluster (docs/cluster.md)."""


@cluster_commands.command("certs")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def cluster_certs_command(folder: Path) -> None:
    """Write the course's TLS certificates into FOLDER: ca.pem, and scheduler, worker and
    client .pem with their -key.pem. Only holders of client.pem can use the cluster."""
    from grader.cluster_security import ClusterSetupError, write_certificates

    try:
        written = write_certificates(folder)
    except ClusterSetupError as exc:
        raise click.UsageError(str(exc)) from None
    for path in written:
        click.echo(f"Wrote {path}")
    click.echo("Keep the -key.pem files private: scheduler-key.pem on the scheduler, worker-key.pem on the "
               "workers, client-key.pem with whoever runs `grade batch` (docs/cluster.md).")
for _name in EXERCISES:
    main.add_command(_exercise_command(_name))


def run() -> None:
    """Console entry point: user errors become one line on stderr (exit 2 for usage errors)."""
    use_language(choose_language())  # the locale's, until a command's --lang says otherwise
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
