"""The `grade` command: a thin click layer over grader.pipeline and friends.

It parses options, calls library functions, prints what they return, and turns user errors
into one line and exit status 2. It holds no grading logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.catalog import EXERCISES, find_course_folder, get_exercise, is_student_bundle, summarise_checks
from grader.course.commands import course_batch_options, course_gradebook_options, feedback
from grader.report.gradescope import VISIBILITIES
from grader.i18n import LANGUAGES, N_, _, choose_language, current_language, use_language

STUDENT_BUNDLE = is_student_bundle()
"""In the students' bundle `grade --help` lists the student's commands only (`list` and the
exercises); the instructor's stay callable but hidden, and `release`/`check-course` refuse."""


def document(path: str) -> str:
    """A document the help may point to: `path` where this copy of the grader holds it (the
    course repository), else the bundle's README.md, the one document students have."""
    from grader.catalog import PROJECT_ROOT

    return path if (PROJECT_ROOT / path).is_file() else "README.md"
from grader.options import DEVICES, ISOLATION_LEVELS, GradingOptions, Limits


class Help(str):
    """A help text marked N_ (English, as click builds it at import) that `localise_help` turns
    into the current language when help is shown: `Help(N_("Grade {exercise}."), exercise=name)`."""

    def __new__(cls, message: str, **values):
        text = super().__new__(cls, message.format(**values))
        text.message, text.values = message, values
        HELP_TEXTS[str(text)] = text  # click keeps a plain copy of an option's help: found again by its text
        return text

    def translated(self) -> str:
        return _(self.message).format(**{key: value.translated() if isinstance(value, Help) else value
                                          for key, value in self.values.items()})


HELP_TEXTS: dict[str, Help] = {}


def localise_help(command: click.Command) -> None:
    """Put `command`'s help texts (its own, its options', its subcommands') in the current
    language. Run before click renders help: by `run` for the locale's language and by --lang."""
    for item in (command, *command.params):
        source = getattr(item, "help_source", None) or HELP_TEXTS.get(item.help or "")
        if source is not None:
            item.help_source, item.help = source, source.translated()
    for subcommand in getattr(command, "commands", {}).values():
        localise_help(subcommand)


class GradeGroup(click.Group):
    """Unknown commands get a one-line message that lists the exercises."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            shown = [c for c, command in self.commands.items() if c not in EXERCISES and not command.hidden]
            raise click.UsageError(_("unknown exercise or command {name}; exercises: {exercises}; commands: {commands}")
                                   .format(name=repr(name), exercises=", ".join(EXERCISES),
                                           commands=", ".join(shown))) from None


def isolation_option(func):
    return click.option("--isolation", type=click.Choice(ISOLATION_LEVELS), default="auto", show_default=True,
                        help=Help(N_("How strongly to isolate the student's code ({document})."),
                                  document=document("docs/security.md")))(func)


def require_data_dir(data_dir: Path | None) -> None:
    """A --data-dir that does not exist here is a usage error (one line): it is only read, never
    created or downloaded into. (A cluster batch checks it on the workers, which read it.)"""
    if data_dir is not None and not data_dir.is_dir():
        raise click.UsageError(_("--data-dir {path} does not exist; check the path (the MNIST folder you name "
                                 "is only read, never created or downloaded into)").format(path=data_dir))


def language_option(func):
    """--lang: the language of what this command prints and writes (grader/i18n.py); without it,
    the course file's, else the user's locale, else English. Set before the command runs."""

    def choose(ctx, param, value):
        from grader.course.roster import course_language

        value = value or ctx.meta.get("grader.language")  # `grade --lang ko exercise1`: the group's
        ctx.meta["grader.language"] = value
        try:
            chosen = use_language(choose_language(value, course=course_language(Path.cwd())))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        localise_help(ctx.find_root().command)
        return chosen

    return click.option("--lang", type=click.Choice(LANGUAGES), default=None, expose_value=False, is_eager=True,
                        callback=choose, help=Help(N_("Language of messages and reports: ko or en.")))(func)


def grading_options(func):
    """--isolation, --device, --data-dir and --lang: the options every grading command takes."""
    func = language_option(func)
    func = click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                        help=Help(N_("Folder with the MNIST IDX files (else $MNIST_DATA_DIR, else "
                                     "~/.cache/dlgrader/mnist). Only read: it must exist, and nothing is "
                                     "downloaded into it.")))(func)
    func = click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
                        help=Help(N_("Where timed PyTorch training runs (exercise 7).")))(func)
    return isolation_option(func)


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=Help(N_("Grade deep-learning exercises: `grade exercise1` checks your exercises/exercise1/.")))
@language_option
def main() -> None:
    """Grade deep-learning exercises: `grade exercise1` checks your exercises/exercise1/."""


@main.command("list", help=Help(N_("List the exercises with their topics and points.")))
@language_option
def list_exercises() -> None:
    """List the exercises with their topics and points."""
    for exercise in EXERCISES.values():
        if not exercise.checks_dir.is_dir():
            continue  # not in this bundle (not released yet)
        summary = summarise_checks(exercise)  # reads the check files' source: no torch, no nbformat
        click.echo(_("{exercise:<10} {points:>5g} pts  {checks:>3} checks  {topic}").format(
            exercise=exercise.name, points=summary.points, checks=summary.count, topic=_(exercise.topic)))


def _exercise_command(name: str) -> click.Command:
    exercise = get_exercise(name)

    @click.command(name, help=Help(N_("Grade {exercise} ({topic})."), exercise=name, topic=Help(exercise.topic)))
    @click.option("--submission", type=click.Path(path_type=Path), default=None,
                  help=Help(N_("A folder, {module}.py, a notebook or a .zip (default: exercises/{exercise}/ of the "
                               "course folder you are in)."), module=exercise.module, exercise=name))
    @click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
                  help=Help(N_("Also write the result as JSON to this file.")))
    @click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
                  help=Help(N_("Also write an HTML feedback report to this file.")))
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

    path = submission if submission is not None else default_submission(name)
    hand_in = readable_hand_in(name, path)
    for option, output in (("--json", json_path), ("--html", html_path)):
        if output is not None:
            require_writable(option, output)
    click.echo(click.style(_("{exercise}: grading {path}").format(exercise=name, path=path), bold=True))
    try:
        running = RunningCheck(sys.stdout)
        seen: set[str] = set()

        def finished(check) -> None:
            running.finished()
            click.echo(render_check_once(check, seen))

        graded = grade(name, hand_in, options=options, progress=finished, started=running.started)
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except ChecksUnavailable as exc:
        raise click.UsageError(str(exc)) from None
    write_and_say(graded, one_student_targets(graded, json_path, html_path))


def default_submission(name: str) -> Path:
    """exercises/<name>/ of the course folder that holds the current folder, so that `grade`
    works from notebooks/ or exercises/exercise3/ as well as from the course folder itself."""
    course = find_course_folder(Path.cwd())
    if course is None:
        raise click.UsageError(_("no course folder here: run `grade {exercise}` inside your course folder (the one "
                                 "holding exercises/), or pass --submission PATH").format(exercise=name))
    path = course / "exercises" / name
    if not path.exists():
        raise click.UsageError(_("{path} does not exist; run `grade {exercise}` inside your course folder or pass "
                                 "--submission PATH").format(path=path, exercise=name))
    return path


def readable_hand_in(name: str, path: Path):
    """The hand-in at `path`, read once and checked to hold the exercise's module (or a
    notebook): a wrong file name or a file that is not a notebook is a usage error, one line,
    before any check runs, instead of every check at zero."""
    from grader.submission import SubmissionError, load_submission, read_hand_in

    if not path.exists():
        raise click.UsageError(_("{path} does not exist; check its name (a folder, {module}.py, a notebook or a "
                                 ".zip)").format(path=path, module=get_exercise(name).module))
    try:
        hand_in = read_hand_in(path)
        load_submission(hand_in, get_exercise(name))
    except SubmissionError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(_("{path} cannot be read: {reason}").format(path=path, reason=exc.strerror or exc)) \
            from None
    return hand_in


def require_writable(option: str, path: Path) -> None:
    """Check before grading that `path` can be written (its folder made, a file created
    there), so that a bad --html or --json is one line, not a traceback after the checks ran."""
    import tempfile

    if path.is_dir():
        raise click.UsageError(_("{option} {path} is a folder; give a file name, such as {example}").format(
            option=option, path=path, example=path / f"report{path.suffix or option.replace('--', '.')}"))
    existing = next(folder for folder in path.absolute().parents if folder.exists())
    if not existing.is_dir():
        raise click.UsageError(_("{option} {path} cannot be written: {file} is a file, not a folder").format(
            option=option, path=path, file=existing))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise click.UsageError(_("{option} {path} cannot be written: {reason}").format(
            option=option, path=path, reason=exc.strerror or exc)) from None


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

    try:
        written = write_outputs(graded.result, graded.hand_in, targets)
    except OSError as exc:  # checked before grading; the disk may still fill up or the folder go away
        raise click.UsageError(_("{path} could not be written: {reason}").format(
            path=exc.filename or "", reason=exc.strerror or exc)) from None
    for path in written.files:
        click.echo(_("Wrote {path}").format(path=path))
    for kind, problem in written.problems.items():
        what = _("feedback inside the notebook") if kind == "feedback" else kind
        click.echo(_("{what} not written: {problem}").format(what=what, problem=problem))


@main.command("batch", hidden=STUDENT_BUNDLE)
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
              help="Tests only: seconds per check (the submission gets 20 times as long).")
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
        raise click.UsageError(_("unknown exercise {name}; exercises: {exercises}").format(
            name=repr(exercise_name), exercises=", ".join(EXERCISES)))
    if not submissions.is_dir():
        raise click.UsageError(_("{path} is not a folder; pass the folder that holds one entry per student")
                               .format(path=submissions))
    if not cluster:
        require_data_dir(data_dir)
    line = ProgressLine(sys.stderr, label=exercise_name)
    options = GradingOptions(isolation=isolation, device=device, data_dir=data_dir,
                             limits=Limits.for_check_timeout(check_timeout), language=current_language())
    if cluster and jobs:
        raise click.UsageError(_("--jobs is for local workers; with --cluster, start as many Dask workers as you "
                                 "need"))
    if (cluster_certs or insecure_cluster) and not cluster:
        raise click.UsageError(_("--cluster-certs and --insecure-cluster go with --cluster"))
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
        click.echo(_("warning: {warning}").format(warning=warning), err=True)
    click.echo(batch_summary(report, out))
    for student, other in sorted(report.other_exercise.items()):
        click.echo(_("{student}: probably {other}, not {exercise} (defines {other}'s functions and none of this "
                     "exercise's)").format(student=student, other=other, exercise=report.exercise), err=True)
    written = [out / "gradebook.csv", out / "summary.html"]
    if similarity and (out / "similarity.html").is_file():
        written.append(out / "similarity.html")
    click.echo(_("Wrote {files}").format(files=", ".join(map(str, written))))
    if report.incomplete:
        click.echo(_("{count} students have checks the grader could not run (a problem of this machine, not of "
                     "their code; see summary.html). Fix it and rerun the same command: exactly those students are "
                     "graded again.").format(count=report.incomplete), err=True)
    if report.interrupted:
        click.echo(_("Interrupted: rerun the same command to grade the rest."), err=True)
        sys.exit(130)


@main.command("similarity", hidden=STUDENT_BUNDLE)
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
    click.echo(_("{students} submissions compared in {seconds:.1f} s: {pairs} pairs in {clusters} clusters at or "
                 "above {threshold:.0%}").format(students=report.students, seconds=report.seconds,
                                                 pairs=len(report.pairs), clusters=len(report.clusters),
                                                 threshold=report.threshold))
    for number, students in enumerate(report.clusters[:5], start=1):
        click.echo(_("  cluster {number}: {students}").format(number=number, students=", ".join(students)))
    click.echo(_("Wrote {files}").format(files=f"{out / 'similarity.html'}, {out / 'similarity.csv'}"))


def batch_summary(report, out: Path) -> str:
    """"exercise1: 30 students — 28 graded, 1 unchanged, 1 could not be graded (bo) (4.2 s)":
    a list of counts, each item a whole phrase, so that each translates alone."""
    counts = [_("{count} graded").format(count=report.graded), _("{count} unchanged").format(count=report.skipped)]
    if report.errors:
        counts.append(_("{count} could not be graded ({names})").format(count=report.errors,
                                                                         names=names(report.not_graded, out)))
    if report.interrupted:
        counts.append(_("{count} not graded yet").format(count=report.pending))
    return _("{exercise}: {students} students — {counts} ({seconds:.1f} s)").format(
        exercise=report.exercise, students=report.students, counts=", ".join(counts), seconds=report.seconds)


def names(students: list[str], out: Path, most: int = 5) -> str:
    """"ana, bo" or, for a long list, the first few and where the rest are listed."""
    shown = ", ".join(sorted(students)[:most])
    return shown if len(students) <= most else _("{shown}, … — all in {summary}, 'Counted once'").format(
        shown=shown, summary=out / "summary.html")


@main.command("gradescope", hidden=STUDENT_BUNDLE)
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


@main.command("gradebook", hidden=STUDENT_BUNDLE)
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
    click.echo(_("Wrote {path}: {students} students, {exercises}").format(
        path=out_file, students=len(merged.students), exercises=", ".join(merged.exercises)))


def _require_course_repository(command: str) -> None:
    if STUDENT_BUNDLE:
        raise click.UsageError(_("`grade {command}` is for instructors: it needs the course repository "
                                 "with its reference/ folder").format(command=command))


def _exercise_names(names: tuple[str, ...]) -> list[str] | None:
    unknown = [n for n in names if n not in EXERCISES]
    if unknown:
        raise click.UsageError(_("unknown exercise {name}; exercises: {exercises}").format(
            name=repr(unknown[0]), exercises=", ".join(EXERCISES)))
    return list(names) or None


@main.command("release", hidden=STUDENT_BUNDLE)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write the bundle (OUT/dlcourse/) and its zip (OUT/dlcourse.zip) to.")
@click.option("--exercise", "exercises", multiple=True,
              help="Release only this exercise (repeat for several); default: every exercise that is ready.")
@click.option("--no-cases", is_flag=True,
              help="Record the reference's answers only, not the diagnoses the checks give tests/cases/ (quicker).")
@click.option("--no-verify", is_flag=True, help="Skip grading the reference with the bundle's own grader.")
@isolation_option
@language_option
def release(out, exercises, no_cases, no_verify, isolation) -> None:
    """Write the students' bundle: stubs, notebooks, public checks and a `grade` without references
    or hidden checks, plus a .zip of it."""
    _require_course_repository("release")
    from grader.course.release import ReleaseError, build_release

    try:
        made = build_release(out, _exercise_names(exercises), record_cases=not no_cases, verify=not no_verify,
                             isolation=isolation, progress=lambda message: click.echo(message, err=True))
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    for entry in made.exercises:
        if entry.skipped:
            click.echo(_("  {exercise:<10} not released: {why}").format(exercise=entry.name, why=entry.skipped))
        else:
            click.echo(_("  {exercise:<10} {count:>3} public checks").format(exercise=entry.name,
                                                                           count=len(entry.public_checks)))
        for check, why in entry.kept_back.items():
            click.echo(_("  {blank:<10}     kept back {check}: {why}").format(blank="", check=check, why=why))
    click.echo(_("Wrote {files}").format(files=", ".join(str(p) for p in (made.folder, made.archive) if p)))


@main.command("check-course", hidden=STUDENT_BUNDLE)
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
    _require_course_repository("check-course")
    from grader.course.course_check import check_course, check_mutants, format_table

    if mutants:
        reports, text = check_mutants(_exercise_names(exercises), per_operator=per_operator, isolation=isolation,
                                      html_path=html_path,
                                      progress=lambda r: click.echo(f"  {r.outcome} {r.mutant.exercise} "
                                                                    f"{r.mutant.key}", err=True))
        click.echo(text)
        if html_path:
            click.echo(_("Wrote {path}").format(path=html_path))
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


feedback.hidden = STUDENT_BUNDLE  # the instructor's hand-back of a batch
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


cluster_commands.hidden = STUDENT_BUNDLE
for _name, _exercise in EXERCISES.items():
    main.add_command(_exercise_command(_name))
    main.commands[_name].hidden = not _exercise.checks_dir.is_dir()  # a bundle without this exercise yet


def run() -> None:
    """Console entry point: user errors become one line on stderr (exit 2 for usage errors)."""
    use_language(choose_language())  # the locale's, until a command's --lang says otherwise
    localise_help(main)
    try:
        main.main(standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"grade: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"grade: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo(_("grade: aborted"), err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    run()
