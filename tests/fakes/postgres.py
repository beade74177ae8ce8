"""A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster in a temporary folder, a Unix socket only.

The server listens on no TCP port (listen_addresses=''), only on a socket in its own temporary folder, so parallel
test sessions never collide. It runs as an unprivileged user (the `postgres` account when the tests run as root),
in its own session so Ctrl-C reaches pytest, which stops it in the fixture's teardown, and with a parent-death
signal so it shuts down by itself even when the test process is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

READY_LINE = "database system is ready to accept connections"
SUPERUSER = "postgres"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be had on this machine; the message says why and how to get one."""


def find_bindir() -> Path:
    """Return the folder holding initdb and postgres: $PG_BINDIR, Debian's newest /usr/lib/postgresql/N/bin, PATH."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))

    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/bin/initdb$", path)
        return int(match.group(1)) if match else 0

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    candidates.extend(Path(path).parent for path in debian)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, postgres) found in /usr/lib/postgresql/*/bin or on PATH; "
        "install Debian's server with `apt-get install postgresql` (.ci/run does) or set PG_BINDIR"
    )


def _server_account() -> pwd.struct_passwd | None:
    """Return the unprivileged account to run the server as when we are root (PostgreSQL refuses root), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresUnavailable(
            "the tests run as root and there is no `postgres` account to run the server as "
            "(installing Debian's postgresql package creates it)"
        ) from exc


def _die_with_parent() -> None:
    """Ask the kernel to send SIGINT (a fast shutdown) to the server if the test process dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running server: its socket folder, its log, and how to reach a database on it."""

    socket_dir: Path
    port: int
    log_path: Path
    bindir: Path
    pid: int

    def url(self, database: str = "postgres") -> str:
        """Return a `postgresql://` URL for one database on this server, over the Unix socket."""
        return f"postgresql://{SUPERUSER}@/{quote(database)}?host={quote(str(self.socket_dir))}&port={self.port}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement with psql and return its unaligned output (raises on error)."""
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create an empty database (dropping one of that name first) and return its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server(port: int = 5432) -> Iterator[PostgresServer]:
    """Initialise a cluster in a temporary folder, start a server on a socket there, and stop and delete it after."""
    bindir = find_bindir()
    account = _server_account()
    # Keep the path short: a Unix socket path must fit in 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
    try:
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        run_as: dict[str, object] = {}
        if account is not None:
            run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        data = root / "data"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
            timeout=120,
            check=False,
            **run_as,  # type: ignore[arg-type]
        )
        if initdb.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({initdb.returncode}): {initdb.stderr.strip()[-2000:]}")
        log_path = root / "server.log"
        process = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "listen_addresses=",
                # A test server: durability across a power cut is not what is tested here.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
                "-c",
                "logging_collector=off",
                "-c",
                "log_min_messages=warning",
                "-c",
                "log_min_error_statement=panic",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
            start_new_session=True,  # Ctrl-C goes to pytest, whose teardown stops the server in order
            preexec_fn=_die_with_parent,
            **run_as,  # type: ignore[arg-type]
        )
        ready = threading.Event()
        pump = threading.Thread(target=_pump_log, args=(process, log_path, ready.set), name="postgres-log", daemon=True)
        pump.start()
        try:
            if not ready.wait(START_TIMEOUT) or process.poll() is not None:
                raise PostgresUnavailable(
                    f"the PostgreSQL server did not start within {START_TIMEOUT:.0f}s: "
                    + log_path.read_text(errors="replace")[-2000:]
                )
            yield PostgresServer(root, port, log_path, bindir, process.pid)
        finally:
            _stop(process)
            pump.join(STOP_TIMEOUT)
            assert process.stderr is not None
            process.stderr.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pump_log(process: subprocess.Popen[str], log_path: Path, on_ready: Callable[[], None]) -> None:
    """Copy the server's stderr to its log file and call on_ready once it accepts connections (or has exited)."""
    assert process.stderr is not None
    with log_path.open("w", encoding="utf-8") as log:
        for line in process.stderr:
            log.write(line)
            log.flush()
            if READY_LINE in line:
                on_ready()
    on_ready()  # EOF: the server exited; the waiter checks poll()


def _stop(process: subprocess.Popen[str]) -> None:
    """Shut the server down: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue
