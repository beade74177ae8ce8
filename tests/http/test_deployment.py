"""Deployment files checked without a Docker engine: the Dockerfile's command, port, health check and install
step are real, and .env.example documents every setting."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from http_helpers import Running
from starlette.routing import Route

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCS = ROOT / "docs" / "http-api.md"


def instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def only(keyword: str) -> str:
    """Return the arguments of the one instruction with this keyword."""
    found = [args for kw, args in instructions() if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def env() -> dict[str, str]:
    """Return the variables the image's ENV instructions set."""
    values: dict[str, str] = {}
    for keyword, args in instructions():
        if keyword == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                values[key] = value
    return values


def run_commands() -> list[str]:
    """Return every shell command of the RUN instructions, split at &&."""
    return [part.strip() for kw, args in instructions() if kw == "RUN" for part in args.split("&&")]


def test_base_image_is_slim_python() -> None:
    image = only("FROM")
    assert image.startswith("python:") and image.endswith("-slim")
    version = image.removeprefix("python:").removesuffix("-slim")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(map(int, version.split("."))) >= (3, 11)


def test_runs_as_a_non_root_user() -> None:
    user = only("USER").split(":")[0]
    assert user not in ("root", "0")


def test_cmd_is_serve_and_the_command_exists() -> None:
    command = json.loads(only("CMD"))
    assert command == ["python", "-m", "bot", "serve"]
    result = subprocess.run(
        [sys.executable, *command[1:], "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0 and "serve" in result.stdout


def test_port_and_host_are_the_servers() -> None:
    variables = env()
    assert only("EXPOSE") == variables["PORT"] == str(Settings().port)
    settings = Settings.from_env({"PORT": variables["PORT"], "HOST": variables["HOST"]}, dotenv=None)
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)


def _healthcheck_code() -> str:
    healthcheck = only("HEALTHCHECK")
    _, _, command = healthcheck.partition(" CMD ")
    argv = shlex.split(command)
    assert argv[:2] == ["python", "-c"], "the health check needs nothing but Python (no curl in a slim image)"
    return argv[2]


def test_healthcheck_probes_the_servers_health_route(api: Running) -> None:
    code = _healthcheck_code()
    assert "/healthz" in code
    assert any(isinstance(r, Route) and r.path == "/healthz" for r in api.app.routes)
    port = api.url.rsplit(":", 1)[1]
    probe_env = {**os.environ, "PORT": port}
    assert subprocess.run([sys.executable, "-c", code], env=probe_env, timeout=30).returncode == 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    code = _healthcheck_code()
    closed = {**os.environ, "PORT": "9"}  # the discard port: nothing of ours listens there
    result = subprocess.run([sys.executable, "-c", code], env=closed, capture_output=True, timeout=30)
    assert result.returncode != 0


def test_install_and_warm_up_steps_are_the_documented_ones() -> None:
    commands = run_commands()
    install = [c for c in commands if c.startswith("pip install")]
    assert install == ["pip install ."], "dependencies come from pyproject.toml, without extras"
    warm_up = [c for c in commands if c.startswith("python -m bot ask")]
    assert len(warm_up) == 1
    assert "JIEBA_CACHE_DIR" in env()
    docs = DOCS.read_text(encoding="utf-8")
    for command in (*install, *warm_up):
        assert command in docs, f"{command!r} is not in {DOCS.name}'s install steps"


def test_every_data_file_is_packaged() -> None:
    """`pip install .` ships the knowledge base and lexicon only if package-data's globs cover every file."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        packaged = {path for pattern in patterns for path in (ROOT / package).glob(pattern)}
        for path in (ROOT / package / "data").rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                assert path in packaged, f"{path.relative_to(ROOT)} is not packaged"


@pytest.mark.parametrize("path", ["bot", "intents", "knowledge", "pyproject.toml", "README.md"])
def test_copied_paths_are_not_docker_ignored(path: str) -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert path not in ignored
    copied = " ".join(args for kw, args in instructions() if kw == "COPY")
    assert path in copied


def test_warm_up_builds_the_jieba_cache(tmp_path: Path) -> None:
    (warm_up,) = [c for c in run_commands() if c.startswith("python -m bot ask")]
    cache = tmp_path / "jieba"
    cache.mkdir()
    warm_env = {**os.environ, "JIEBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    argv = shlex.split(warm_up)
    assert argv[0] == "python"
    argv[0] = sys.executable  # the image's `python`; here, the interpreter running the tests (PATH may lack it)
    result = subprocess.run(argv, env=warm_env, cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert list(cache.glob("jieba*.cache")), "jieba's cache was not written to JIEBA_CACHE_DIR"


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    settings = set(Settings.variables().values())
    assert settings <= names, f"undocumented: {sorted(settings - names)}"
    assert names - settings == set(), "the example lists settings only (JIEBA_CACHE_DIR is the cache_dir setting)"
    docs = DOCS.read_text(encoding="utf-8")
    assert all(f"`{name}`" in docs for name in names), "every variable is in the docs' table too"
    example = Settings.from_env({}, dotenv=ROOT / ".env.example")
    assert example == Settings(), "the example's values are the defaults"
