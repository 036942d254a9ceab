"""Helpers the tests share: settings, a product to order, the service as a real process, a cuttable link."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from catalog.config import Settings, load_settings

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLE_DIR = Path(__file__).resolve().parent.parent

# The `make_client` fixture: builds the app in-process; keyword arguments replace settings or revisions.
AppFactory = Callable[..., TestClient]


def settings_for(database_url: str, redis_url: str, **overrides: str) -> Settings:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "ADMIN_TOKEN": ADMIN_TOKEN, **overrides}
    return load_settings(env)


def new_product(client: TestClient | httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"sku": "MUG-1", "name": "Enamel mug", "priceCents": 1200, "stock": 10, **fields}
    response = client.post("/products", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(what: str, ready: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {timeout} s")


class ServiceProcess:
    """`python3 -m catalog serve` as a deploy runs it: its own process, port and JSON logs on stdout."""

    def __init__(self, database_url: str, redis_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "catalog", "serve"],
            cwd=EXAMPLE_DIR,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "ADMIN_TOKEN": ADMIN_TOKEN,
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until("the service", self._alive)
        except TimeoutError:
            self.stop()
            raise

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the service exited with {self.process.returncode}:\n{self.output()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        """Everything it printed; only once it has exited."""
        assert self.process.stdout is not None
        return self.process.stdout.read() if self.process.poll() is not None else ""

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class CuttableLink:
    """
    A TCP relay in front of a server, so a test can take the server away and bring it back at the same
    address, the way a restart or a network cut looks to the app, without touching the shared server.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the port comes back at once
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuses new connections and cuts every open one."""
        if self._listener:
            # shutdown() first: a bare close() leaves the socket listening while _accept() blocks in accept().
            self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
