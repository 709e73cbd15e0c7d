"""deploy/ names only things that exist in the project.

Docker cannot run here, so this test reads what it would run: compose.yaml -> each of our
services' command -> a start script in deploy/scripts -> every command line in it, and
checks each name against the code: gunicorn's ``MODULE:CALLABLE`` imports and is a WSGI
callable, ``celery -A APP`` finds a Celery app and a real subcommand, ``python manage.py
CMD`` is a management command, ``python FILE`` exists. The Dockerfile's COPY sources, its
non-root USER and the .env.example (every variable documented, no real secret) too.

The checker raises ``DeployError`` for a wrong name; the negative tests at the end prove
it does, so a typo in a script fails here rather than in production.
"""

import ast
import importlib
import importlib.util
import inspect
import io
import json
import math
import os
import re
import secrets
import shlex
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCRIPTS = DEPLOY / "scripts"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / ".env.example"

SERVICES = {"postgres", "redis", "migrate", "web", "worker", "beat"}
# What each of our services must run, as (program, word that must follow it).
EXPECTED = {
    "migrate": ("manage.py", "migrate"),
    "web": ("gunicorn", "config.wsgi:application"),
    "worker": ("celery", "worker"),
    "beat": ("celery", "beat"),
}
# Shell words a start script may use besides the programs the checker understands.
SHELL_WORDS = {"set", "cd", "exec", "if", "then", "else", "elif", "fi", "echo", ":", "true"}
REQUIRED_ENV = {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}
PLACEHOLDER = "change-me"


class DeployError(Exception):
    """A deploy file names something the project does not have."""


# --- reading the files ----------------------------------------------------------------


def logical_lines(text: str) -> Iterator[str]:
    """Shell or Dockerfile lines with continuations joined; comments and blanks dropped."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending.strip():
        yield pending


def command_words(line: str) -> list[str]:
    """A shell line's words, without a leading ``exec`` or ``NAME=value`` assignments."""
    words = shlex.split(line, comments=True)
    while words and (words[0] == "exec" or re.fullmatch(r"[A-Za-z_]\w*=.*", words[0])):
        words = words[1:]
    return words


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def our_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository (the rest are stock images)."""
    return {name: svc for name, svc in compose()["services"].items() if "build" in svc}


def dockerfile_instructions() -> list[tuple[str, str]]:
    result = []
    for line in logical_lines(DOCKERFILE.read_text()):
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def workdir() -> str:
    dirs = [rest for keyword, rest in dockerfile_instructions() if keyword == "WORKDIR"]
    assert dirs, "the Dockerfile sets no WORKDIR"
    return dirs[-1].rstrip("/")


def host_path(container_path: str) -> Path:
    """Where a path inside the image comes from: the image's WORKDIR is the repo root."""
    prefix = workdir() + "/"
    if container_path.startswith(prefix):
        return ROOT / container_path[len(prefix) :]
    if container_path.startswith("/"):
        raise DeployError(f"{container_path} is outside the image's WORKDIR {workdir()}")
    return ROOT / container_path


def as_words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def service_script(service: dict[str, Any]) -> Path:
    """The start script a service runs; it must be one of deploy/scripts, executable."""
    if "entrypoint" in service:
        raise DeployError("our services use the image's (empty) entrypoint")
    words = as_words(service.get("command", []))
    if len(words) != 1:
        raise DeployError(f"command {words!r} is not a single start script")
    return existing_script(words[0])


def existing_script(container_path: str) -> Path:
    path = host_path(container_path)
    if path.parent != SCRIPTS:
        raise DeployError(f"{container_path} is not in deploy/scripts")
    if not path.is_file():
        raise DeployError(f"{container_path} does not exist")
    if not os.access(path, os.X_OK):
        raise DeployError(f"{container_path} is not executable (chmod +x)")
    return path


def script_commands(path: Path) -> list[list[str]]:
    return [words for line in logical_lines(path.read_text()) if (words := command_words(line))]


# --- the checker ------------------------------------------------------------------------


def check_command(words: list[str]) -> None:
    """Raise ``DeployError`` unless every name this command line uses exists."""
    program, args = words[0], words[1:]
    if program in SHELL_WORDS:
        return
    if program == "gunicorn":
        check_gunicorn(args)
    elif program == "celery":
        check_celery(args)
    elif program in ("python", "python3"):
        check_python(args)
    elif "/" in program:
        existing_script(program)
    else:
        raise DeployError(f"unrecognised command {program!r}")


def wsgi_target(args: list[str]) -> tuple[str, str]:
    target = args[0] if args else ""
    match = re.fullmatch(r"([A-Za-z_][\w.]*):([A-Za-z_]\w*)", target)
    if not match:
        raise DeployError(f"gunicorn's first argument must be MODULE:CALLABLE, not {target!r}")
    return match[1], match[2]


def check_gunicorn(args: list[str]) -> None:
    module_name, attribute = wsgi_target(args)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise DeployError(f"gunicorn: cannot import {module_name}: {error}") from error
    application = getattr(module, attribute, None)
    if application is None:
        raise DeployError(f"gunicorn: {module_name} has no {attribute}")
    try:
        inspect.signature(application).bind({}, lambda *a: None)
    except (TypeError, ValueError) as error:
        raise DeployError(f"gunicorn: {module_name}:{attribute} is not a WSGI callable") from error


def celery_app_and_subcommand(args: list[str]) -> tuple[str, str]:
    app, i = "", 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-A", "--app") and i + 1 < len(args):
            app, i = args[i + 1], i + 2
        elif args[i].startswith("--app="):
            app, i = args[i].removeprefix("--app="), i + 1
        else:
            raise DeployError(f"celery: put {args[i]!r} after the subcommand")
    if not app:
        raise DeployError("celery: no -A APP")
    if i == len(args):
        raise DeployError("celery: no subcommand")
    return app, args[i]


def check_celery(args: list[str]) -> None:
    app_name, subcommand = celery_app_and_subcommand(args)
    try:
        app = find_app(app_name)  # how the celery command itself resolves -A
    except (ImportError, AttributeError) as error:
        raise DeployError(f"celery: -A {app_name} finds no app: {error}") from error
    if not isinstance(app, Celery):
        raise DeployError(f"celery: -A {app_name} is {app!r}, not a Celery app")
    if subcommand not in celery_cli.commands:
        raise DeployError(f"celery has no subcommand {subcommand!r}")


def check_python(args: list[str]) -> None:
    if not args:
        raise DeployError("python with no program")
    if args[0] == "manage.py":
        if not (ROOT / "manage.py").is_file():
            raise DeployError("manage.py does not exist")
        if len(args) < 2 or args[1] not in get_commands():
            name = args[1] if len(args) > 1 else ""
            raise DeployError(f"manage.py has no command {name!r}")
    elif args[0] == "-m":
        if len(args) < 2 or importlib.util.find_spec(args[1]) is None:
            raise DeployError(f"python -m: no module {args[1:2]}")
    elif args[0].endswith(".py"):
        path = host_path(args[0])
        if not path.is_file():
            raise DeployError(f"python: {args[0]} does not exist")
        compile(path.read_text(), str(path), "exec")
    else:
        raise DeployError(f"python {args[0]!r}: not manage.py, -m or a .py file")


# --- compose ----------------------------------------------------------------------------


def test_the_six_services_exist() -> None:
    assert set(compose()["services"]) >= SERVICES
    assert set(our_services()) == set(EXPECTED)


def test_our_services_build_this_repository_with_deploy_dockerfile() -> None:
    for name, service in our_services().items():
        build = service["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT, name
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE, name
        assert service.get("env_file") == ".env", name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_service_runs_an_existing_script_whose_commands_all_exist(name: str) -> None:
    script = service_script(our_services()[name])
    commands = script_commands(script)
    for words in commands:
        check_command(words)
    program, argument = EXPECTED[name]
    assert any(
        program in words and argument in words[words.index(program) :] for words in commands
    ), f"{script.name} does not run {program} ... {argument}"


def test_scripts_are_strict_and_exec_the_long_running_process() -> None:
    for script in sorted(SCRIPTS.glob("*.sh")):
        lines = list(logical_lines(script.read_text()))
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script.name
        assert "set -euo pipefail" in lines, script.name
        assert any(line.startswith("exec ") for line in lines), script.name


def test_migrate_runs_migrations_and_the_deploy_check() -> None:
    commands = script_commands(SCRIPTS / "migrate.sh")
    assert ["python", "manage.py", "migrate", "--noinput"] in commands
    assert ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"] in commands


def test_healthchecks_name_existing_commands() -> None:
    services = compose()["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for service in our_services().values():
        healthcheck = service.get("healthcheck", {})
        if healthcheck.get("disable"):
            continue
        test = healthcheck.get("test")
        if test is None:
            continue  # the image's HEALTHCHECK, checked with the Dockerfile
        kind, *rest = test
        lines = list(logical_lines(rest[0])) if kind == "CMD-SHELL" else [shlex.join(rest)]
        for line in lines:
            check_command(command_words(line.replace("$$", "$")))


def test_startup_order() -> None:
    services = compose()["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["migrate"].get("restart") == "no"


def test_exactly_one_beat_with_a_writable_schedule_directory() -> None:
    beat = compose()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    env = dict(
        rest.split("=", 1)
        for keyword, rest in dockerfile_instructions()
        if keyword == "ENV"
        for rest in shlex.split(rest)
        if "=" in rest
    )
    mounted = {volume.split(":")[1] for volume in beat.get("volumes", [])}
    assert env["CONSORTIUM_VAR_DIR"] in mounted


# --- the Dockerfile ---------------------------------------------------------------------


def test_dockerfile_copy_sources_exist() -> None:
    copied = []
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY":
            continue
        words = shlex.split(rest)
        if any(word.startswith("--from=") for word in words):
            continue
        sources = [word for word in words if not word.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        copied += sources
    assert "requirements.txt" in copied
    installs = [rest for keyword, rest in dockerfile_instructions() if "pip install" in rest]
    assert installs, "the Dockerfile installs nothing"
    for rest in installs:
        for requirements in re.findall(r"-r\s+(\S+)", rest):
            assert Path(requirements).name in {Path(source).name for source in copied}


def test_dockerfile_runs_as_a_fixed_non_root_user() -> None:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    users = [rest for keyword, rest in instructions[last_from:] if keyword == "USER"]
    assert users, "the runtime stage has no USER line"
    user = users[-1].split(":")[0]
    assert user.isdigit(), "use a numeric uid, so runAsNonRoot can check it"
    assert int(user) != 0


def test_dockerfile_bakes_in_no_secret_and_names_existing_commands() -> None:
    instructions = dockerfile_instructions()
    for keyword, rest in instructions:
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"SECRET|PASSWORD|TOKEN", rest, re.IGNORECASE), rest
        if keyword == "RUN" and "manage.py" in rest:
            for match in re.finditer(r"python manage\.py (\S+)", rest):
                check_python(["manage.py", match[1]])
    commands = {
        keyword: rest for keyword, rest in instructions if keyword in ("CMD", "HEALTHCHECK")
    }
    existing_script(json.loads(commands["CMD"])[0])
    healthcheck = json.loads(commands["HEALTHCHECK"].split(" CMD ", 1)[1])
    check_command(healthcheck)


def test_the_health_probe_asks_a_url_that_exists() -> None:
    assert "/healthz" in (SCRIPTS / "healthcheck.py").read_text()
    assert resolve("/healthz").url_name == "healthz"


def test_the_health_probe_sends_an_allowed_host() -> None:
    spec = importlib.util.spec_from_file_location("healthcheck", SCRIPTS / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.host_header("") == "localhost"
    assert module.host_header("*") == "localhost"
    assert module.host_header(" .example.com, localhost") == "example.com"
    assert module.host_header("consortium.example.com") == "consortium.example.com"


@pytest.mark.django_db  # the WSGI handler closes stale database connections per request
def test_the_wsgi_target_serves_healthz() -> None:
    module_name, attribute = wsgi_target(
        next(w[1:] for w in script_commands(SCRIPTS / "web.sh") if w[0] == "gunicorn")
    )
    application = getattr(importlib.import_module(module_name), attribute)
    statuses = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert json.loads(body) == {"status": "ok"}


# --- .env.example -----------------------------------------------------------------------


def env_example() -> list[tuple[str, str, str]]:
    """(name, value, the line before) for each variable in .env.example."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    result = []
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not NAME=value"
            result.append((name.strip(), value.strip(), lines[i - 1] if i else ""))
    return result


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_problem(name: str, value: str) -> str | None:
    """Why this value looks like a real secret, or None for a placeholder or plain setting."""
    if not value or PLACEHOLDER in value:
        return None
    if re.search(r"SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE", name, re.IGNORECASE):
        return f"{name} must be a {PLACEHOLDER} placeholder"
    if "://" in value and urlsplit(value).password:
        return f"{name} carries a password that is not a {PLACEHOLDER} placeholder"
    for run in re.findall(r"[A-Za-z0-9+/_=-]{20,}", value):
        mixed = re.search(r"[A-Za-z]", run) and re.search(r"[0-9]", run)
        if mixed and _entropy(run) > 3.5:
            return f"{name} holds a random-looking string"
    return None


def test_env_example_lists_the_essentials_each_documented_none_secret() -> None:
    variables = env_example()
    names = [name for name, _, _ in variables]
    assert len(names) == len(set(names)), "a variable is listed twice"
    assert set(names) >= REQUIRED_ENV
    for name, value, before in variables:
        assert before.lstrip().startswith("#"), f"{name} has no comment line above it"
        assert secret_problem(name, value) is None, secret_problem(name, value)


def test_env_example_mentions_every_variable_the_settings_read() -> None:
    text = ENV_EXAMPLE.read_text()
    readers = {"env_str", "env_bool", "env_int", "env_list"}
    read = set()
    for path in (ROOT / "config").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in readers
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                read.add(node.args[0].value)
    assert read >= REQUIRED_ENV
    missing = sorted(name for name in read if not re.search(rf"\b{name}=", text))
    assert not missing, f"add these to deploy/.env.example, with a comment: {missing}"


def test_compose_required_variables_are_in_env_example() -> None:
    names = {name for name, _, _ in env_example()}
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required
    assert required <= names, required - names
    assert ".env" in (DEPLOY / ".gitignore").read_text().splitlines()


# --- the checker rejects what does not exist ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("python manage.py no_such_command", "no command 'no_such_command'"),
        ("python manage.py", "no command ''"),
        ("python deploy/scripts/no_such_file.py", "does not exist"),
        ("python -m no_such_module_here", "no module"),
        ("gunicorn config.wsgi:no_such_app --bind 0.0.0.0:8000", "has no no_such_app"),
        ("gunicorn config.no_such_wsgi:application", "cannot import"),
        ("gunicorn --bind 0.0.0.0:8000 config.wsgi:application", "MODULE:CALLABLE"),
        ("gunicorn config.settings.base:DEBUG", "not a WSGI callable"),
        ("celery -A no_such_package worker", "finds no app"),
        ("celery -A json worker", "finds no app"),
        ("celery -A config no_such_subcommand", "no subcommand"),
        ("celery worker", "no -A APP"),
        ("exec gunicron config.wsgi:application", "unrecognised command"),
        ("/app/deploy/scripts/no_such.sh", "does not exist"),
    ],
)
def test_the_checker_rejects_names_that_do_not_exist(line: str, message: str) -> None:
    with pytest.raises(DeployError, match=re.escape(message)):
        check_command(command_words(line))


def test_the_checker_accepts_the_real_names() -> None:
    for line in (
        "python manage.py migrate --noinput",
        "gunicorn config.wsgi:application --workers 2",
        "celery -A config worker",
        "celery --app=config.celery beat",
    ):
        check_command(command_words(line))


def test_a_service_must_run_an_executable_script() -> None:
    with pytest.raises(DeployError, match="not a single start script"):
        service_script({"command": ["gunicorn", "config.wsgi:application"]})
    with pytest.raises(DeployError, match="not in deploy/scripts"):
        service_script({"command": "/app/manage.py"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_SECRET_KEY", secrets.token_urlsafe(50)),
        ("POSTGRES_PASSWORD", "hunter2"),
        ("DATABASE_URL", "postgres://app:s3cr3t-pw@db:5432/consortium"),
        ("SOME_SETTING", secrets.token_urlsafe(32)),
    ],
)
def test_a_real_looking_secret_is_caught(name: str, value: str) -> None:
    assert secret_problem(name, value) is not None


def test_placeholders_and_plain_settings_pass() -> None:
    assert secret_problem("DJANGO_SECRET_KEY", "change-me-to-a-long-random-value") is None
    assert secret_problem("DATABASE_URL", "postgres://a:change-me-pw@postgres:5432/db") is None
    assert secret_problem("CELERY_BROKER_URL", "redis://redis:6379/0") is None
    assert secret_problem("CELERY_BEAT_SCHEDULE_FILE", "/app/var/celerybeat-schedule") is None
