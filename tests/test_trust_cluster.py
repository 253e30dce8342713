"""Trust boundaries of a grading cluster: only holders of the course's certificates get in,
plain TCP only on loopback, one line for an address that does not answer, and a watchdog on
every worker's grading.

A real TLS `dask scheduler` on 127.0.0.1 and two `dask worker`s, with certificates from
`grade cluster certs`, serve the module. Every address these tests reach is on loopback.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.batch import cluster
from grader.batch import run as batch
from grader.cluster_security import (ClusterAccess, ClusterSetupError, check_scheduler, cluster_access,
                                     write_certificates)
from grader.options import GradingOptions, Limits
from test_batch import OPTIONS, make_submissions, read_rows, stored
from test_cluster import HOST, START_TIMEOUT_S, LocalCluster, dask_command, free_port, verdicts

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

PRELOAD = Path(__file__).with_name("trust_hang_preload.py")
WATCHED = GradingOptions(limits=Limits(check_timeout=1.5, submission_timeout=3.0))
"""Short limits for the watchdog's test: a stuck grading is stopped after the submission's
budget plus the margin."""


def run_grade(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


class TlsCluster(LocalCluster):
    """LocalCluster over TLS: the scheduler and workers hold the course's certificates."""

    def __init__(self, root: Path):
        cluster.require_distributed()
        self.root, self.processes = root, []
        self.certs = root / "certs"
        write_certificates(self.certs)
        self.address = f"tls://{HOST}:{free_port()}"
        self.access = ClusterAccess(self.address, self.certs, timeout=START_TIMEOUT_S)
        self.scheduler = self._start("scheduler", [
            dask_command("dask"), "scheduler", "--host", HOST, "--port", self.address.rsplit(":", 1)[1],
            "--protocol", "tls", "--no-dashboard", *self.tls("scheduler")])

    def tls(self, role: str) -> list[str]:
        return ["--tls-ca-file", str(self.certs / "ca.pem"), "--tls-cert", str(self.certs / f"{role}.pem"),
                "--tls-key", str(self.certs / f"{role}-key.pem")]

    def start_worker(self, name: str, *extra: str, env: dict | None = None) -> subprocess.Popen:
        return self._start(name, [dask_command("dask"), "worker", self.address, "--host", HOST, "--nthreads", "1",
                                  "--no-dashboard", *self.tls("worker"), *extra], env)

    def client(self, timeout: float = START_TIMEOUT_S):
        from distributed import Client

        return Client(self.address, security=self.access.security(), timeout=timeout, set_as_default=False)

    def wait_for_workers(self, count: int, not_all_of: tuple[str, ...] = ()) -> list[str]:
        """The workers once `count` are connected, at least one of them not in `not_all_of`."""
        deadline = time.monotonic() + START_TIMEOUT_S
        with self.client() as client:
            while time.monotonic() < deadline:
                workers = sorted(client.scheduler_info()["workers"])
                if len(workers) == count and not set(workers) <= set(not_all_of):
                    return workers
                time.sleep(0.25)
        raise AssertionError(f"{count} workers did not connect within {START_TIMEOUT_S} s; see {self.root}/*/log.txt")


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """A TLS scheduler and two workers whose `watchdog_*` students hang (trust_hang_preload.py)."""
    running = TlsCluster(tmp_path_factory.mktemp("tls-cluster"))
    try:
        running.start_worker("worker1", "--preload", str(PRELOAD))
        running.start_worker("worker2", "--preload", str(PRELOAD))
        running.workers = running.wait_for_workers(2)
        yield running
    finally:
        running.close()


# -- TLS: the course's certificates, and nobody else ------------------------------------------
def test_tls_cluster_grades_a_class_exactly_as_a_local_batch(tls_cluster, tmp_path):
    """Does a batch graded on a TLS cluster on loopback get the scores and check statuses of a
    local batch, through the CLI with --cluster tls:// --cluster-certs?"""
    make_submissions("exercise1", tmp_path / "subs")
    local = batch.run_batch(tmp_path / "subs", "exercise1", tmp_path / "local", jobs=2, options=OPTIONS)
    done = run_grade("batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out", str(tmp_path / "tls"),
                     "--cluster", tls_cluster.address, "--cluster-certs", str(tls_cluster.certs),
                     "--check-timeout", "1.5", timeout=600)
    assert done.returncode == 0, done.stderr
    assert verdicts(tmp_path / "tls") == verdicts(tmp_path / "local")
    assert len(read_rows(tmp_path / "tls")) == local.students >= 30
    assert all(address.startswith("tls://") for address in tls_cluster.workers), "workers listen with TLS too"


def test_a_client_without_the_course_certificate_cannot_connect(tls_cluster, tmp_path):
    """Is a plain client refused by the scheduler and by each worker: plain TCP, TLS with no
    client certificate, and TLS with a certificate of another CA?"""
    from distributed import Client

    write_certificates(tmp_path / "other")
    other = ClusterAccess(tls_cluster.address, tmp_path / "other").security()
    for target in (tls_cluster.address, *tls_cluster.workers):
        for address, security in ((target.replace("tls://", "tcp://"), None), (target, other)):
            with pytest.raises((OSError, TimeoutError)):
                Client(address, security=security, timeout=3, set_as_default=False)
        with pytest.raises((ssl.SSLError, ConnectionError)):
            talk_tls_without_a_client_certificate(target, tls_cluster.certs / "ca.pem")


def talk_tls_without_a_client_certificate(address: str, ca: Path) -> bytes:
    """Open TLS to `address` trusting the course's CA but showing no certificate, and read."""
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw) as conn:  # TLS 1.3: the server's refusal arrives with the first read
            conn.sendall(b"\0" * 16)
            return _read_or_raise(conn)


def _read_or_raise(conn) -> bytes:
    data = conn.recv(16)
    if not data:
        raise ConnectionError("closed without a word")
    return data


def test_only_the_course_client_can_run_code_on_the_workers(tls_cluster):
    """With the course's client certificate, does a function reach the workers (so the refusals
    above are about the certificate, not a broken cluster)?"""
    with tls_cluster.client() as client:
        assert client.submit(sum, [1, 2, 3]).result(timeout=60) == 6


def test_tls_without_certificates_and_certificates_without_tls_are_usage_errors(tmp_path):
    """Does tls:// without --cluster-certs, or --cluster-certs with tcp://, say what to pass?"""
    with pytest.raises(ClusterSetupError, match="needs --cluster-certs"):
        cluster_access("tls://127.0.0.1:8786", certs=None)
    with pytest.raises(ClusterSetupError, match="has no ca.pem"):
        cluster_access("tls://127.0.0.1:8786", certs=tmp_path)
    write_certificates(tmp_path / "certs")
    with pytest.raises(ClusterSetupError, match="tls://127.0.0.1:8786"):
        cluster_access("tcp://127.0.0.1:8786", certs=tmp_path / "certs")


def test_cluster_certs_writes_the_set_once(tmp_path):
    """Does `grade cluster certs DIR` write ca.pem and the three pairs (keys private), signed by
    that CA, and refuse to overwrite them?"""
    done = run_grade("cluster", "certs", str(tmp_path / "certs"))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "certs").iterdir())
    assert names == sorted(["ca.pem"] + [f"{role}{end}" for role in ("scheduler", "worker", "client")
                                         for end in (".pem", "-key.pem")])
    for role in ("scheduler", "worker", "client"):
        assert (tmp_path / "certs" / f"{role}-key.pem").stat().st_mode & 0o077 == 0
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "certs" / "ca.pem"),
                                   str(tmp_path / "certs" / f"{role}.pem")], capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    again = run_grade("cluster", "certs", str(tmp_path / "certs"))
    assert again.returncode == 2 and "already holds" in again.stderr and len(again.stderr.splitlines()) == 1


# -- which addresses ----------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["tcp://10.1.2.3:8786", "tcp://grading.example.edu:8786", "tcp://[fe80::1]:8786"])
def test_plain_tcp_off_loopback_is_refused_without_the_flag(address, tmp_path):
    """Is a tcp:// address that is not loopback refused (one line, exit 2, saying how to set up
    TLS) before any connection, and allowed with --insecure-cluster only with a warning?"""
    (tmp_path / "subs").mkdir()
    done = run_grade("batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out", str(tmp_path / "out"),
                     "--cluster", address)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "grade cluster certs" in done.stderr and "Traceback" not in done.stderr
    access, warnings = cluster_access(address, certs=None, insecure=True)
    assert access.address == address and access.security() is None
    assert len(warnings) == 1 and "anyone who can reach it" in warnings[0]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://127.8.9.10:1", "tcp://localhost:8786",
                                     "tcp://[::1]:8786"])
def test_plain_tcp_on_loopback_is_allowed_without_a_warning(address):
    access, warnings = cluster_access(address, certs=None)
    assert access.address == address and warnings == []


# -- addresses that do not answer ---------------------------------------------------------------
def test_a_closed_port_is_one_line_within_the_timeout(tmp_path):
    """Does an address where nothing listens give one line and exit 2 within --cluster-timeout
    (plus the CLI's start), not a traceback?"""
    (tmp_path / "subs").mkdir()
    started = time.monotonic()
    done = run_grade("batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out", str(tmp_path / "out"),
                     "--cluster", f"tcp://{HOST}:{free_port()}", "--cluster-timeout", "2")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "no Dask scheduler answered" in done.stderr, done.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists(), "nothing is written before the scheduler answers"


class NotDask:
    """A loopback TCP server that answers every connection with an HTTP error page."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind((HOST, 0))
        self.server.listen()
        self.address = f"tcp://{HOST}:{self.server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request" * 20)

    def close(self) -> None:
        self.server.close()


def test_a_server_that_is_not_dask_is_one_line(tmp_path):
    """Does a server speaking another protocol give one line naming it, not 'Unable to allocate
    3.07 EiB' and a traceback from Client.__del__?"""
    server = NotDask()
    try:
        (tmp_path / "subs").mkdir()
        done = run_grade("batch", str(tmp_path / "subs"), "--exercise", "exercise1", "--out", str(tmp_path / "out"),
                         "--cluster", server.address, "--cluster-timeout", "5")
    finally:
        server.close()
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not speak Dask's protocol" in done.stderr, done.stderr


def test_a_worker_address_is_not_a_scheduler(tls_cluster):
    """Is a worker's address, given by mistake, named as such?"""
    with pytest.raises(ClusterSetupError, match="is a Dask worker, not a scheduler"):
        check_scheduler(ClusterAccess(tls_cluster.workers[0], tls_cluster.certs, timeout=10))


def test_a_tls_scheduler_with_other_certificates_is_one_line(tls_cluster, tmp_path):
    write_certificates(tmp_path / "other")
    with pytest.raises(ClusterSetupError, match="same `grade cluster certs` set|no Dask scheduler answered"):
        check_scheduler(ClusterAccess(tls_cluster.address, tmp_path / "other", timeout=5))


# -- the watchdog (last: it restarts a worker) --------------------------------------------------
def test_a_hung_grading_is_stopped_recorded_as_the_machines_fault_and_regraded(tls_cluster, tmp_path):
    """When a grading on a worker hangs (in the grader's own code, or on a sandbox that stops
    answering), is it stopped after its limit plus the margin, recorded as could_not_run with
    origin "machine", while the batch goes on; does the next run grade exactly those students;
    and is a worker with a grading stuck for good replaced by a fresh one?"""
    ref = (Path(cluster.get_exercise("exercise1").reference_path)).read_text()
    for name in ("ok1", "ok2", "watchdog_stuck", "watchdog_sandbox"):
        (tmp_path / "subs" / name).mkdir(parents=True)
        (tmp_path / "subs" / name / "losses.py").write_text(f"# {name}\n" + ref)
    report = cluster.run_cluster_batch(tmp_path / "subs", "exercise1", tmp_path / "out", scheduler=tls_cluster.access,
                                       options=WATCHED)
    assert (report.students, report.graded, report.incomplete) == (4, 4, 2) and not report.interrupted
    for name in ("ok1", "ok2"):
        assert stored(tmp_path / "out", name)["score"] == stored(tmp_path / "out", name)["max_score"]
    for name in ("watchdog_stuck", "watchdog_sandbox"):
        checks = stored(tmp_path / "out", name)["checks"]
        assert {(c["status"], c["origin"]) for c in checks} == {("could_not_run", "machine")}, name
        assert "did not finish within" in checks[0]["message"]
    again = batch.run_batch(tmp_path / "subs", "exercise1", tmp_path / "out", jobs=1, options=WATCHED)
    assert (again.graded, again.skipped) == (2, 2), "exactly the two stopped students are graded again"
    assert all(stored(tmp_path / "out", n)["score"] == stored(tmp_path / "out", n)["max_score"]
               for n in ("watchdog_stuck", "watchdog_sandbox"))
    before, tls_cluster.workers = tls_cluster.workers, tls_cluster.wait_for_workers(2, not_all_of=tls_cluster.workers)
    assert len(set(tls_cluster.workers) - set(before)) == 1, "the worker with the stuck grading restarted"
