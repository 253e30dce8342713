"""Who may use a grading cluster: the course's TLS certificates, which addresses are allowed,
and a bounded first contact with the scheduler.

A Dask scheduler runs whatever function a connected client submits, on workers that hold the
reference solution and the hidden checks. So `--cluster` speaks TLS with certificates that
only the course has (`grade cluster certs DIR`), and distributed's own TLS (`Security`)
requires every peer, clients included, to present a certificate signed by the course's CA:
a student's `distributed.Client` on the same network cannot finish the handshake. Plain
`tcp://` is allowed on loopback (one machine, or an `ssh -L` / `kubectl port-forward` tunnel)
and elsewhere only with `--insecure-cluster`, which warns.

The certificates are made with the `openssl` command (OpenSSL 1.1.1 or later): the
`cryptography` package, which distributed uses for this, is an optional dependency that the
course's environment does not install. The CA's private key is thrown away once the three
certificates are signed, so nobody, the course included, can sign a fourth; to add or
replace one, make a new set and hand it out again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROLES = ("scheduler", "worker", "client")
VALID_DAYS = 400
"""A certificate set lasts a bit over a year: a course's term, with room to spare."""
DEFAULT_CONNECT_TIMEOUT_S = 10.0
TLS_HOWTO = ("make certificates with `grade cluster certs DIR`, start the scheduler and workers with them "
             "(docs/cluster.md) and pass --cluster tls://HOST:PORT --cluster-certs DIR")


class ClusterSetupError(Exception):
    """The cluster cannot be used as asked (address, certificates, no answer): one line, exit 2."""


# -- certificates -----------------------------------------------------------------------------
def cert_paths(folder: Path, role: str) -> tuple[Path, Path]:
    """(certificate, private key) of one role in a certificate folder."""
    return folder / f"{role}.pem", folder / f"{role}-key.pem"


def write_certificates(folder: Path, *, days: int = VALID_DAYS) -> list[Path]:
    """Write ca.pem and, for each of scheduler, worker and client, NAME.pem and NAME-key.pem
    (keys readable by their owner only). Refuses to overwrite an existing set."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ClusterSetupError("`grade cluster certs` needs the openssl command; install it "
                                "(apt-get install openssl, brew install openssl) and run it again")
    wanted = [folder / "ca.pem"] + [path for role in ROLES for path in cert_paths(folder, role)]
    existing = [path.name for path in wanted if path.exists()]
    if existing:
        raise ClusterSetupError(f"{folder} already holds {', '.join(existing)}; choose an empty folder (workers "
                                f"and clients using the old set keep working until you replace it)")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        ca_key = Path(scratch) / "ca-key.pem"
        _openssl(openssl, "req", "-x509", *_new_key(ca_key), "-out", str(folder / "ca.pem"), "-days", str(days),
                 "-subj", "/CN=dlgrader course CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for role in ROLES:
            _sign(openssl, folder, role, ca_key, Path(scratch), days)
    return wanted


def _new_key(key: Path) -> list[str]:
    """openssl arguments for a fresh unencrypted P-256 key written to `key`."""
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key)]


def _sign(openssl: str, folder: Path, role: str, ca_key: Path, scratch: Path, days: int) -> None:
    """A key and a certificate for `role`, signed by the CA, good for both ends of a connection
    (a worker is a server to the scheduler and a client of it)."""
    cert, key = cert_paths(folder, role)
    request = scratch / f"{role}.csr"
    extensions = scratch / f"{role}.ext"
    extensions.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\n"
                          "authorityKeyIdentifier=keyid\n")
    _openssl(openssl, "req", "-new", *_new_key(key), "-out", str(request), "-subj", f"/CN=dlgrader {role}")
    os.chmod(key, 0o600)
    _openssl(openssl, "x509", "-req", "-in", str(request), "-CA", str(folder / "ca.pem"), "-CAkey", str(ca_key),
             "-set_serial", str(int.from_bytes(os.urandom(16), "big") >> 1), "-days", str(days),
             "-extfile", str(extensions), "-out", str(cert))


def _openssl(openssl: str, *args: str) -> None:
    done = subprocess.run([openssl, *args], capture_output=True, text=True)
    if done.returncode:
        raise ClusterSetupError(f"openssl {args[0]} failed: {done.stderr.strip().splitlines()[-1:] or '?'}")


# -- which address, which security ------------------------------------------------------------
@dataclass(frozen=True)
class ClusterAccess:
    """How to reach the scheduler: its address, the TLS certificates (None for plain tcp://),
    and how long the first contact may take."""

    address: str
    certs: Path | None = None
    timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def security(self):
        """distributed's Security for this client: the course's client certificate, encryption
        required; None for plain tcp://."""
        if self.certs is None:
            return None
        from distributed.security import Security

        cert, key = cert_paths(self.certs, "client")
        return Security(tls_ca_file=str(self.certs / "ca.pem"), tls_client_cert=str(cert), tls_client_key=str(key),
                        require_encryption=True)


def is_loopback(host: str) -> bool:
    """Is `host` this machine's loopback (127.0.0.0/8, ::1, localhost)? Never resolves a name."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_address(address: str) -> tuple[str, str]:
    """(scheme, host) of tls://HOST:PORT or tcp://HOST:PORT; ClusterSetupError for anything else."""
    scheme, sep, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in ("tls", "tcp") or not colon or not host or not port.isdigit():
        raise ClusterSetupError(f"--cluster {address!r} is not tls://HOST:PORT (or tcp://HOST:PORT on this machine)")
    return scheme, host


def cluster_access(address: str, *, certs: Path | None, insecure: bool = False,
                   timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> tuple[ClusterAccess, list[str]]:
    """The checked access and its warnings. tls:// needs a certificate folder; tcp:// off
    loopback is refused unless `insecure` (then a warning says what anyone on the network can do)."""
    scheme, host = split_address(address)
    if scheme == "tls":
        if certs is None:
            raise ClusterSetupError(f"--cluster {address} needs --cluster-certs DIR, the folder `grade cluster certs` "
                                    f"wrote (ca.pem, client.pem, client-key.pem)")
        missing = [p.name for p in (certs / "ca.pem", *cert_paths(certs, "client")) if not p.is_file()]
        if missing:
            raise ClusterSetupError(f"--cluster-certs {certs} has no {', '.join(missing)}; pass the folder "
                                    f"`grade cluster certs` wrote")
        return ClusterAccess(address, certs, timeout), []
    if certs is not None:
        raise ClusterSetupError(f"--cluster-certs is for a tls:// scheduler; use --cluster tls://{address[6:]}")
    if is_loopback(host):
        return ClusterAccess(address, None, timeout), []
    if not insecure:
        raise ClusterSetupError(f"refused plain --cluster {address}: anyone who can reach it could run code on the "
                                f"workers and read the reference and hidden checks; {TLS_HOWTO} "
                                f"(or --insecure-cluster on a network only you use)")
    return ClusterAccess(address, None, timeout), [
        f"--insecure-cluster: {address} is plain TCP; anyone who can reach it can run code on the workers and read "
        f"the reference solution and hidden checks ({TLS_HOWTO})"]


# -- first contact ----------------------------------------------------------------------------
def check_scheduler(access: ClusterAccess) -> None:
    """Raise ClusterSetupError with one line unless a Dask scheduler answers at the address
    within the timeout. Done before distributed.Client, which on a non-Dask server may try to
    allocate a frame of exabytes, and on a silent one retries for minutes."""
    try:
        asyncio.run(asyncio.wait_for(_identity(access), access.timeout + 1))
    except ClusterSetupError:
        raise
    except ssl.SSLError as exc:
        raise ClusterSetupError(f"the TLS handshake with {access.address} failed ({_short(exc)}); the scheduler "
                                f"must use certificates from the same `grade cluster certs` set") from None
    except (asyncio.TimeoutError, TimeoutError, OSError) as exc:
        raise ClusterSetupError(f"no Dask scheduler answered at {access.address} within {access.timeout:g} s "
                                f"({_short(exc) or type(exc).__name__}); check the address and that `dask scheduler` "
                                f"runs there (docs/cluster.md), or give it longer with --cluster-timeout") from None
    except Exception:  # another protocol read as Dask's frames: MemoryError (a huge length), decoding errors
        raise ClusterSetupError(f"{access.address} answered, but does not speak Dask's protocol; check the host and "
                                f"port (a Dask scheduler listens on 8786 unless told otherwise)") from None


async def _identity(access: ClusterAccess) -> None:
    from distributed.comm import connect

    security = access.security()
    args = security.get_connection_args("client") if security else {}
    comm = await connect(access.address, timeout=access.timeout, **args)
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = str(reply.get("type") if isinstance(reply, dict) else type(reply).__name__).lower()
        raise ClusterSetupError(f"{access.address} is a Dask {kind}, not a scheduler; pass the scheduler's address")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
