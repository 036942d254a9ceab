"""
A small pool of psycopg 3 connections.

psycopg_pool is the usual choice, but Debian's python3-psycopg-pool is not on every machine this example
runs on, so the few lines it needs live here. Each connection is in autocommit mode: every statement the
service runs is a transaction of its own, and an idle connection never sits in an open transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row

CONNECT_TIMEOUT_SECONDS = 3  # fail fast when Postgres is down, so /readyz answers instead of hanging
APPLICATION_NAME = "catalog"


def connect(database_url: str) -> psycopg.Connection[dict[str, object]]:
    return psycopg.connect(
        database_url,
        autocommit=True,
        row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        application_name=APPLICATION_NAME,
        # psycopg returns text as bytes from a database whose encoding is SQL_ASCII (one made by initdb in the
        # C locale): asking for UTF-8 keeps every text column a str, whatever the server was created with.
        client_encoding="utf8",
    )


class PoolTimeout(Exception):
    pass


class ConnectionPool:
    """At most `max_size` connections; callers beyond that wait up to `wait_timeout` seconds for one."""

    def __init__(self, database_url: str, max_size: int, wait_timeout: float = 5.0) -> None:
        self.database_url = database_url
        self.max_size = max_size
        self.wait_timeout = wait_timeout
        self._idle: list[psycopg.Connection[dict[str, object]]] = []
        self._slots = threading.BoundedSemaphore(max_size)
        self._lock = threading.Lock()
        self._open = 0
        self._waiting = 0
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, object]]]:
        with self._lock:
            self._waiting += 1
        acquired = self._slots.acquire(timeout=self.wait_timeout)
        with self._lock:
            self._waiting -= 1
        if not acquired:
            raise PoolTimeout(f"no Postgres connection free within {self.wait_timeout} s")
        try:
            conn = self._checkout()
            try:
                yield conn
            finally:
                self._checkin(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn in idle:
            conn.close()

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "open": self._open,
                "idle": len(self._idle),
                "max": self.max_size,
                "waiting": self._waiting,
            }

    def _checkout(self) -> psycopg.Connection[dict[str, object]]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None and not conn.closed:
            return conn
        if conn is not None:  # closed while idle (server restart): drop it and open another
            with self._lock:
                self._open -= 1
        conn = connect(self.database_url)
        with self._lock:
            self._open += 1
        return conn

    def _checkin(self, conn: psycopg.Connection[dict[str, object]]) -> None:
        # A connection that failed mid-statement or is left in a transaction is not handed to the next caller.
        healthy = not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with self._lock:
            if healthy and not self._closed:
                self._idle.append(conn)
                return
            self._open -= 1
        conn.close()
