"""
The service's whole configuration, read from the environment once at start.

A bad value stops the process with one message naming every bad variable and what was expected;
values are never echoed, because most of them (URLs with passwords, the admin token) are secrets.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class ConfigError(Exception):
    """Every bad variable at once, so one failed start tells the operator all there is to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Release:
    id: str
    revision: str


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    admin_token: str
    port: int
    host: str
    log_level: str
    release: Release
    cache_ttl_seconds: int
    db_pool_max: int
    shutdown_timeout_seconds: float


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError
        return value

    return parse


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError
        return number

    return parse


def _at_least(length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) < length:
            raise ValueError
        return value

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError
        return value.lower()

    return parse


class _Reader:
    """Reads variables and collects what is wrong with them instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        # Empty strings count as unset: compose and CI often pass `VAR=` for "use the default".
        self.env = {name: value for name, value in env.items() if value != ""}
        self.problems: list[str] = []

    def read(self, name: str, parse: Callable[[str], T], expected: str, default: T | None = None) -> T:
        raw = self.env.get(name)
        # Or from the file NAME_FILE names (Docker's convention): Swarm mounts secrets as files, which
        # `docker inspect` does not show as it shows the environment.
        file = self.env.get(f"{name}_FILE")
        if file is not None:
            if raw is not None:
                self.problems.append(f"{name} and {name}_FILE are both set: set one of them")
                return None  # type: ignore[return-value]  # never used: check() raises first
            try:
                raw = Path(file).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
            except OSError as error:
                code = errno.errorcode.get(error.errno or 0, type(error).__name__)
                self.problems.append(f"{name}_FILE names {file}, which cannot be read ({code})")
                return None  # type: ignore[return-value]  # never used: check() raises first
        if raw is None and default is not None:
            return default
        if raw is None:
            self.problems.append(f"{name} is not set: expected {expected}")
        else:
            try:
                return parse(raw)
            except ValueError:
                self.problems.append(f"{name} is invalid: expected {expected}")
        return None  # type: ignore[return-value]  # never used: check() raises first

    def check(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


DATABASE_URL_EXPECTED = "a postgres:// URL, e.g. postgres://app:secret@db:5432/app"
REDIS_URL_EXPECTED = "a redis:// or rediss:// URL, e.g. redis://:secret@cache:6379/0"


def load_database_url(env: Mapping[str, str]) -> str:
    """Migration and seed commands need only the database."""
    reader = _Reader(env)
    url = reader.read("DATABASE_URL", _url(("postgres", "postgresql")), DATABASE_URL_EXPECTED)
    reader.check()
    return url


def load_release(env: Mapping[str, str]) -> Release:
    """
    The release alone, for the log lines of commands that read nothing else (migrate, seed). RELEASE_ID is what
    the deploy and compose set (as for the Node sample); RELEASE is accepted as a shorter name.
    """
    return Release(
        id=env.get("RELEASE_ID") or env.get("RELEASE") or "dev",
        revision=env.get("GIT_REVISION") or "unknown",
    )


def load_settings(env: Mapping[str, str]) -> Settings:
    reader = _Reader(env)
    text = _at_least(1)
    settings = Settings(
        database_url=reader.read("DATABASE_URL", _url(("postgres", "postgresql")), DATABASE_URL_EXPECTED),
        redis_url=reader.read("REDIS_URL", _url(("redis", "rediss")), REDIS_URL_EXPECTED),
        admin_token=reader.read("ADMIN_TOKEN", _at_least(16), "a secret of at least 16 characters"),
        port=reader.read("PORT", _int(1, 65535), "an integer from 1 to 65535", 8000),
        host=reader.read("HOST", text, "an interface address such as 0.0.0.0", "0.0.0.0"),
        log_level=reader.read("LOG_LEVEL", _one_of(LOG_LEVELS), f"one of {', '.join(LOG_LEVELS)}", "info"),
        release=load_release(env),
        cache_ttl_seconds=reader.read("CACHE_TTL_SECONDS", _int(1, 86_400), "an integer from 1 to 86400", 60),
        db_pool_max=reader.read("DB_POOL_MAX", _int(1, 200), "an integer from 1 to 200", 10),
        shutdown_timeout_seconds=reader.read(
            "SHUTDOWN_TIMEOUT_SECONDS", _int(1, 300), "an integer from 1 to 300 (seconds)", 10
        ),
    )
    reader.check()
    return settings
