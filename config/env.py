"""Every environment variable the service reads, read here and nowhere else.

A checkout set up by ``scripts/serve`` also has a ``.env`` file in its root (written by
``serve``, ignored by git) so that ``manage.py`` commands run there find the same settings
without exporting anything. Its values are defaults only: a real environment variable
always wins. ``CONSORTIUM_ENV_FILE`` names another file; set empty, no file is read. Test
settings never read one (``config.settings.test`` calls ``ignore_env_file`` first).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# Values read from the env file: consulted only for variables the environment lacks.
_from_file: dict[str, str] = {}
_file_ignored = False


def parse_env_file(text: str, source: str = ".env") -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments skipped, an ``export `` prefix
    and one pair of matching quotes around the value allowed. Nothing is expanded."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.isidentifier():
            raise ImproperlyConfigured(f"{source}, line {number}: expected NAME=value, got {raw!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def ignore_env_file() -> None:
    """From now on this process reads no env file (test settings call this first)."""
    global _file_ignored
    _file_ignored = True
    _from_file.clear()


def read_env_file(default: Path) -> Path | None:
    """Load ``CONSORTIUM_ENV_FILE`` (``default`` when unset) as defaults for the variables
    below; the file read, or None (ignored, set empty, or no such file)."""
    if _file_ignored:
        return None
    named = os.environ.get("CONSORTIUM_ENV_FILE")
    if named is not None and not named.strip():
        return None
    path = Path(named.strip()) if named is not None else default
    if not path.is_file():
        return None
    _from_file.clear()
    _from_file.update(parse_env_file(path.read_text(), str(path)))
    return path


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return _from_file.get(name) if value is None else value


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, or ``default`` when it is unset or empty."""
    value = (_raw(name) or "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; anything but the usual spellings is a configuration error."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value; use true or false.")


def env_int(name: str, default: int) -> int:
    """A whole-number variable."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list variable."""
    raw = env_str(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
