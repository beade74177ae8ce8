"""The test PostgreSQL server: reachable only over its socket, fresh databases, and it never outlives its tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.postgres import PostgresServer, PostgresUnavailable, postgres_server

HERE = Path(__file__).resolve().parent


def _gone(pid: int) -> bool:
    """Return True once a process no longer runs (a zombie left to an init that does not reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def _wait_gone(pid: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def test_server_listens_on_its_socket_only(postgres: PostgresServer) -> None:
    assert postgres.psql("SHOW listen_addresses") == ""
    assert (postgres.socket_dir / f".s.PGSQL.{postgres.port}").is_socket()
    assert postgres.psql("SELECT current_setting('server_encoding')") == "UTF8"


def test_each_module_gets_an_empty_database(postgres: PostgresServer, postgres_url: str) -> None:
    database = postgres_url.split("/", 3)[3].split("?", 1)[0]
    assert database.endswith("test_postgres")
    assert postgres.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database) == "0"
    postgres.psql("CREATE TABLE t (x int)", database)
    assert postgres.create_database(database).endswith(postgres_url.split("/", 3)[3])
    assert postgres.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database) == "0"


def test_server_stops_and_its_folder_goes_when_the_block_ends() -> None:
    try:
        with postgres_server() as server:
            pid, root = server.pid, server.socket_dir
            assert server.psql("SELECT 1") == "1"
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    assert _wait_gone(pid, time.monotonic() + 5)
    assert not root.exists()


def test_server_stops_by_itself_when_the_test_process_is_killed() -> None:
    script = (
        "import sys\n"
        "from fakes.postgres import postgres_server\n"
        "with postgres_server() as server:\n"
        "    print(server.pid, server.socket_dir, flush=True)\n"
        "    sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=HERE.parent,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stderr is not None
            line = child.stdout.readline()
            if not line:
                reason = child.stderr.read()
                if "PostgresUnavailable" in reason:
                    pytest.skip(reason.strip().splitlines()[-1])
                raise AssertionError(f"the child did not start a server: {reason}")
            pid, root = line.split()
            assert not _gone(int(pid))
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            assert _wait_gone(int(pid), time.monotonic() + 15), "the server outlived the process that started it"
            shutil.rmtree(root, ignore_errors=True)  # what the killed process could not clean up
        finally:
            if child.poll() is None:
                child.kill()
