"""Batch grading on a Dask cluster: the same OUT as a local batch, whatever the workers do.

A real `dask scheduler` on 127.0.0.1 (a free port) and two plain `dask worker` processes, each
in its own working folder, serve the whole module; tests that need a third worker (one to kill,
one with another course) start it and stop it themselves. Every wait is bounded. The limits are
shortened as in test_batch.py, so a hanging submission costs seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch import cluster
from grader.batch import run as batch
from grader.catalog import PROJECT_ROOT, get_exercise
from grader.checks.runner import list_checks
from test_batch import OPTIONS, make_submissions, read_rows, stored

HOST = "127.0.0.1"
START_TIMEOUT_S = 90
"""Bound on starting the scheduler and each worker (the machine may be busy)."""


# -- a cluster on the loopback ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def dask_command(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


class LocalCluster:
    """The processes of a test cluster; each started in its own session, so stopping one
    stops its nanny, its worker process, its sandbox zygote and any student's process."""

    def __init__(self, root: Path):
        cluster.require_distributed()  # the tests need the extra: `pip install -e .[cluster]`
        self.root = root
        self.address = f"tcp://{HOST}:{free_port()}"
        self.processes: list[subprocess.Popen] = []
        self.scheduler = self._start("scheduler", [dask_command("dask"), "scheduler", "--host", HOST, "--port",
                                                   self.address.rsplit(":", 1)[1], "--no-dashboard"])

    def _start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        log = open(folder / "log.txt", "ab")
        process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **(env or {})})
        log.close()
        self.processes.append(process)
        return process

    def start_worker(self, name: str, *extra: str, env: dict | None = None) -> subprocess.Popen:
        """A plain `dask worker ADDRESS` (one thread: it grades one student at a time anyway)."""
        return self._start(name, [dask_command("dask"), "worker", self.address, "--host", HOST, "--nthreads", "1",
                                  "--no-dashboard", *extra], env)

    def wait_for_workers(self, count: int) -> list[str]:
        """The addresses of the workers once exactly `count` are connected."""
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT_S
        with Client(self.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            while time.monotonic() < deadline:
                workers = client.scheduler_info()["workers"]
                if len(workers) == count:
                    return sorted(workers)
                time.sleep(0.25)
        raise AssertionError(f"{count} workers did not connect within {START_TIMEOUT_S} s; see {self.root}/*/log.txt")

    def stop(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                self.stop(process)


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """A scheduler and two workers, for the whole module."""
    running = LocalCluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start_worker("worker1")
        running.start_worker("worker2")
        running.wait_for_workers(2)
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory, local_cluster):
    """Exercise 1's generated class (correct, buggy, crashing, hanging, notebooks, zips), graded
    once by a local batch and once on the cluster."""
    root = tmp_path_factory.mktemp("mixed")
    make_submissions("exercise1", root / "subs")
    local = batch.run_batch(root / "subs", "exercise1", root / "local", jobs=2, options=OPTIONS,
                            formats=("gradescope",))
    remote = cluster.run_cluster_batch(root / "subs", "exercise1", root / "cluster", scheduler=local_cluster.address,
                                       options=OPTIONS, formats=("gradescope",))
    return {"root": root, "local": local, "cluster": remote}


def verdicts(out: Path) -> dict[str, tuple[float, dict[str, str]]]:
    """student -> (score, {check: status}) as the batch stored them."""
    grades = {}
    for row in read_rows(out):
        result = stored(out, row["student"])
        grades[row["student"]] = (result["score"], {c["name"]: c["status"] for c in result["checks"]})
    return grades


def copies_of_the_reference(folder: Path, count: int, hanging: int = 0) -> None:
    """`count` correct students, `hanging` of them with a function that never returns."""
    ref = get_exercise("exercise1").reference_path.read_text()
    for i in range(count):
        text = f"# student {i}\n" + ref
        if i < hanging:
            text = text.replace("def softmax(x):", "def softmax(x):\n    while True:\n        pass", 1)
        (folder / f"student{i:02d}").mkdir(parents=True)
        (folder / f"student{i:02d}" / "losses.py").write_text(text)


# -- the tests ----------------------------------------------------------------------------------
@pytest.mark.cluster
@pytest.mark.slow
def test_cluster_batch_gives_the_verdicts_of_a_local_batch(mixed_class):
    """Do mixed submissions (correct, buggy, crashing, hanging) get on the cluster exactly the
    scores and check statuses a local batch gives them, with every file a local batch writes?"""
    root, remote = mixed_class["root"], mixed_class["cluster"]
    local_verdicts, cluster_verdicts = verdicts(root / "local"), verdicts(root / "cluster")
    assert remote.graded == remote.students == len(local_verdicts) >= 30 and not remote.interrupted
    assert cluster_verdicts == local_verdicts
    statuses = {status for _, checks in cluster_verdicts.values() for status in checks.values()}
    assert {"passed", "failed", "error"} <= statuses, "the class exercises every verdict"
    for student in cluster_verdicts:
        for name in ("result.json", "report.html", "instructor.html", "gradescope.json"):
            assert (root / "cluster" / student / name).is_file(), f"{student}/{name}"
        result = stored(root / "cluster", student)
        assert result["batch"]["key"] == stored(root / "local", student)["batch"]["key"]
        assert result["submission_hash"] == stored(root / "local", student)["submission_hash"], student
    levels = {stored(root / "cluster", s)["isolation"] for s in cluster_verdicts} - {""}
    assert levels == {stored(root / "local", "ref_folder")["isolation"]}, "the isolation used is reported"
    assert (root / "cluster" / "summary.html").is_file()


@pytest.mark.cluster
@pytest.mark.slow
def test_cluster_and_local_batches_write_identical_sets_of_files(mixed_class):
    """Do a cluster batch and a local batch of the same class write exactly the same files, a
    notebook student's feedback.html included?"""
    root = mixed_class["root"]
    local, remote = ({p.relative_to(root / side) for p in (root / side).rglob("*") if p.is_file()}
                     for side in ("local", "cluster"))
    assert remote == local
    notebooks = {p.parent.name for p in local if p.name == "feedback.html"}
    assert "ref_notebook" in notebooks, "a notebook student gets feedback.html"


@pytest.mark.cluster
@pytest.mark.slow
def test_rerun_on_the_cluster_regrades_nothing_and_local_batch_resumes_it(mixed_class, local_cluster):
    """Does a rerun of the same cluster batch skip every student, and does a local batch over the
    cluster's OUT see the same results as its own (one OUT format for both)?"""
    root = mixed_class["root"]
    before = (root / "cluster" / "gradebook.csv").read_text()
    again = cluster.run_cluster_batch(root / "subs", "exercise1", root / "cluster", scheduler=local_cluster.address,
                                      options=OPTIONS)
    assert (again.graded, again.skipped) == (0, again.students)
    local = batch.run_batch(root / "subs", "exercise1", root / "cluster", jobs=1, options=OPTIONS)
    assert (local.graded, local.skipped) == (0, local.students)
    assert (root / "cluster" / "gradebook.csv").read_text() == before


@pytest.mark.cluster
@pytest.mark.slow
def test_killed_worker_loses_no_student_and_grades_none_twice(local_cluster, tmp_path, monkeypatch):
    """When a worker is killed while it grades, are its students graded on the other workers,
    each written exactly once?"""
    from distributed import Client

    copies_of_the_reference(tmp_path / "subs", 12, hanging=4)
    before = set(local_cluster.wait_for_workers(2))
    doomed = local_cluster.start_worker("doomed")
    doomed_address = (set(local_cluster.wait_for_workers(3)) - before).pop()
    saves: list[str] = []
    real_save = cluster.save_student
    monkeypatch.setattr(cluster, "save_student", lambda out, result, **kw: (saves.append(result.student),
                                                                            real_save(out, result, **kw)))
    killed = []
    with Client(local_cluster.address, timeout=30, set_as_default=False) as observer:
        def kill_when_busy(state) -> None:
            if not killed and state.done >= 1 and observer.processing(workers=[doomed_address]).get(doomed_address):
                local_cluster.kill(doomed)
                killed.append(doomed_address)

        report = cluster.run_cluster_batch(tmp_path / "subs", "exercise1", tmp_path / "out",
                                           scheduler=local_cluster.address, options=OPTIONS, progress=kill_when_busy)
    assert killed, "the third worker was killed while it graded"
    assert sorted(saves) == sorted(f"student{i:02d}" for i in range(12)), "each student written exactly once"
    rows = read_rows(tmp_path / "out")
    assert sorted(r["student"] for r in rows) == sorted(saves)
    for row in rows:
        hanging = int(row["student"][-2:]) < 4
        result = stored(tmp_path / "out", row["student"])
        assert "died" not in json.dumps(result), row["student"]
        assert (float(row["score"]) < result["max_score"]) == hanging, row["student"]
    assert report.graded == 12


@pytest.mark.cluster
@pytest.mark.slow
def test_worker_with_another_course_is_refused_by_name(local_cluster, tmp_path):
    """Does the client refuse a worker whose course differs (here a check worth other points),
    naming the worker, what differs and how to fix it, and grade everyone on the others?"""
    other = tmp_path / "other-course"
    for name in ("grader", "reference", "exercises", "pyproject.toml"):
        source = PROJECT_ROOT / name
        (shutil.copytree(source, other / name, ignore=shutil.ignore_patterns("__pycache__"))
         if source.is_dir() else shutil.copy(source, other / name))
    checks = other / "grader" / "checks" / "exercise1" / "test_public.py"
    checks.write_text(re.sub(r"points=\d+(\.\d+)?", "points=7", checks.read_text(), count=1))
    before = set(local_cluster.wait_for_workers(2))
    stranger = local_cluster.start_worker("stranger", env={"PYTHONPATH": str(other)})
    try:
        address = (set(local_cluster.wait_for_workers(3)) - before).pop()
        copies_of_the_reference(tmp_path / "subs", 6)
        report = cluster.run_cluster_batch(tmp_path / "subs", "exercise1", tmp_path / "out",
                                           scheduler=local_cluster.address, options=OPTIONS)
    finally:
        local_cluster.stop(stranger)
    refusals = [w for w in report.warnings if "refused" in w]
    assert len(refusals) == 1, report.warnings
    assert address in refusals[0] and "checks: worker" in refusals[0]
    assert "install the same dlgrader version" in refusals[0]
    max_score = sum(points for _, points, *_ in list_checks(get_exercise("exercise1")))
    for row in read_rows(tmp_path / "out"):
        assert float(row["max_score"]) == max_score == float(row["score"]), row["student"]
    assert report.graded == 6


def test_course_fingerprint_mismatch_names_each_part_that_differs():
    """Does the refusal name the worker and exactly the parts of the course that differ?"""
    ours = cluster.course_fingerprint(get_exercise("exercise1"))
    assert cluster.fingerprint_mismatch("tcp://w:1", dict(ours), ours) is None
    theirs = {**ours, "references": "0123456789ab", "limits": "1s/3s/10MB"}
    why = cluster.fingerprint_mismatch("tcp://w:1", theirs, ours)
    assert "tcp://w:1" in why and "references: worker 0123456789ab" in why and "limits: worker 1s/3s/10MB" in why
    assert "grader:" not in why and "checks:" not in why
    stricter = cluster.course_fingerprint(OPTIONS.exercise(get_exercise("exercise1")))
    assert stricter["limits"] != ours["limits"] and stricter["checks"] == ours["checks"]


@pytest.mark.cluster
@pytest.mark.slow
def test_cuda_batch_of_exercise7_needs_a_gpu_worker(local_cluster, tmp_path):
    """With --device cuda, is exercise 7 kept off workers without a GPU resource, with a message
    that says how to start one, before anyone is graded?"""
    copies_of_the_reference(tmp_path / "subs", 1)
    options = OPTIONS.replace(device="cuda")
    assert cluster.needs_gpu(get_exercise("exercise7"), options)
    assert not cluster.needs_gpu(get_exercise("exercise1"), options)
    with pytest.raises(batch.BatchError, match=r"--resources GPU=1"):
        cluster.run_cluster_batch(tmp_path / "subs", "exercise7", tmp_path / "out", scheduler=local_cluster.address,
                                  options=options)
    assert not list((tmp_path / "out").glob("*/result.json"))


def test_missing_extra_is_one_line_naming_it(tmp_path, monkeypatch):
    """Without `distributed` installed, does --cluster say in one line which extra to install?"""
    from grader.cli import main

    copies_of_the_reference(tmp_path / "subs", 1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out",
                                       str(tmp_path / "out"), "--cluster", f"tcp://{HOST}:9"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install -e .[cluster]" in lines[0], result.output
    assert "Traceback" not in result.output


def test_a_hand_in_shipped_as_bytes_grades_as_the_folder_does(tmp_path):
    """Does a hand-in read once here, pickled as a worker receives it, load as the same module
    files and notebook as the entry on disk, with the hash the batch skips by?"""
    import pickle

    from grader.submission import load_submission, read_hand_in

    exercise = get_exercise("exercise1")
    subs = tmp_path / "subs"
    make_submissions("exercise1", subs, size=0, hostile=False)
    discovered = {student.path: student.hash for student in batch.discover(subs)[0]}
    for entry in sorted(subs.iterdir()):
        if entry not in discovered:
            continue
        shipped = pickle.loads(pickle.dumps(read_hand_in(entry)))
        here = load_submission(entry, exercise)
        there = load_submission(shipped, exercise)
        assert (there.files, there.entry) == (here.files, here.entry), entry.name
        assert shipped.hash == here.content_hash == discovered[entry], entry.name


@pytest.mark.cluster
@pytest.mark.slow
def test_lost_scheduler_stops_with_what_is_saved_and_a_rerun_continues(local_cluster, tmp_path, monkeypatch):
    """When the scheduler goes away mid-batch, does the client stop (once its reconnection time
    is up) with a message, keep the students it saved, and does a rerun on another scheduler
    grade exactly the others?"""
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 3.0)
    copies_of_the_reference(tmp_path / "subs", 8, hanging=4)
    doomed = LocalCluster(tmp_path / "doomed")
    try:
        doomed.start_worker("worker")
        doomed.wait_for_workers(1)

        def kill_scheduler_after_one(state) -> None:
            if state.done >= 1 and doomed.scheduler.poll() is None:
                doomed.kill(doomed.scheduler)

        with pytest.raises(batch.BatchError, match="lost the Dask scheduler") as stopped:
            cluster.run_cluster_batch(tmp_path / "subs", "exercise1", tmp_path / "out", scheduler=doomed.address,
                                      options=OPTIONS, progress=kill_scheduler_after_one)
    finally:
        doomed.close()
    saved = {p.parent.name for p in (tmp_path / "out").glob("*/result.json")}
    assert 1 <= len(saved) < 8 and f"the {len(saved)} students graded in this run are saved" in str(stopped.value)
    rerun = cluster.run_cluster_batch(tmp_path / "subs", "exercise1", tmp_path / "out",
                                      scheduler=local_cluster.address, options=OPTIONS)
    assert (rerun.skipped, rerun.graded) == (len(saved), 8 - len(saved))
    assert len(read_rows(tmp_path / "out")) == 8


class FakeFuture:
    def __init__(self, payload: dict):
        self.status, self.payload = "finished", payload

    def result(self) -> dict:
        return self.payload

    def release(self) -> None:
        pass


class FakeClient:
    """Records what the client asks the scheduler for; its workers are `workers`."""

    def __init__(self, workers: dict[str, dict]):
        self.workers, self.submitted = workers, []

    def scheduler_info(self) -> dict:
        return {"workers": self.workers}

    def submit(self, *args, **kwargs) -> FakeFuture:
        self.submitted.append(kwargs)
        return FakeFuture({})


def grading_on(client: FakeClient, exercise: str, tmp_path: Path, options=OPTIONS):
    copies_of_the_reference(tmp_path / "subs", 1)
    students, _ = batch.discover(tmp_path / "subs")
    exercise_options = options.exercise(get_exercise(exercise))
    plan = batch.Batch(exercise=exercise_options, options=options, submissions=tmp_path / "subs",
                       out=tmp_path / "out", key=batch.grading_key(exercise_options), formats=())
    report = batch.BatchReport(exercise=exercise, out=tmp_path / "out", students=1)
    return cluster.ClusterGrading(client, plan, report, batch.Progress(total=1), lambda: None), students[0]


def test_result_of_a_worker_that_joined_with_another_course_is_refused_and_regraded_elsewhere(tmp_path):
    """A worker that joins mid-batch is checked on its first result: is that result dropped
    unsaved, the worker named, and the student sent again only to the other workers?"""
    client = FakeClient({"tcp://good:1": {"nthreads": 1}, "tcp://late:2": {"nthreads": 1}})
    grading, student = grading_on(client, "exercise1", tmp_path)
    grading._look_at_workers(deque())
    grading._submit(student)
    assert client.submitted[0]["workers"] is None, "before any refusal, any worker"
    future = next(iter(grading.pending))
    other = {**grading.ours, "checks": "000000000000"}
    future.payload = {"worker": "tcp://late:2", "fingerprint": other, "result": {}, "retry": False}
    todo = deque()
    grading._collect(future, todo)
    assert list(todo) == [student] and not list((tmp_path / "out").glob("*/result.json"))
    assert len(grading.report.warnings) == 1 and "tcp://late:2" in grading.report.warnings[0]
    grading._submit(todo.popleft())
    assert client.submitted[1]["workers"] == ["tcp://good:1"]


def test_exercise7_on_cuda_asks_for_a_gpu_and_others_do_not(tmp_path):
    """Is a task of exercise 7 on --device cuda routed to GPU workers only, and no other task?"""
    client = FakeClient({"tcp://gpu:1": {"nthreads": 1, "resources": {"GPU": 1}}, "tcp://cpu:2": {"nthreads": 1}})
    cuda = OPTIONS.replace(device="cuda")
    for exercise, options, wanted in [("exercise7", cuda, {"GPU": 1}), ("exercise7", OPTIONS, None),
                                      ("exercise1", cuda, None)]:
        grading, student = grading_on(client, exercise, tmp_path / f"{exercise}-{options.device}", options)
        grading._look_at_workers(deque())
        grading._submit(student)
        assert client.submitted[-1]["resources"] == wanted, (exercise, options.device)


def test_cluster_and_jobs_together_is_a_usage_error(tmp_path):
    """--jobs sizes the local pool: is it refused with --cluster, in one line, exit status 2?"""
    from grader.cli import main

    copies_of_the_reference(tmp_path / "subs", 1)
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out",
                                       str(tmp_path / "out"), "--cluster", f"tcp://{HOST}:9", "--jobs", "2"])
    assert result.exit_code == 2 and "--jobs is for local workers" in result.output
