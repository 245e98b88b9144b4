"""Fixtures shared by the Python tests of the host: where the built binaries are, the C test plugins built into a
temporary folder, and host processes on pipes (one driven through python-lsp-jsonrpc, one raw) that never outlive
their test.

Binaries: $CONFOUND_BIN_DIR, else <repo>/.build/release, else <repo>/.build/debug (the first holding
confound-host). Build them with `swift build [-c release] --product confound-host` (plus confound-worker and
confound-plugin-focus) before running `python -m pytest Tests/python`.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
# Seconds any single wait in these tests may take before the test fails instead of hanging.
WAIT = 20.0


def find_bin_dir() -> Path:
  """The folder holding confound-host, confound-worker and the built-in plugins."""
  candidates = [Path(os.environ["CONFOUND_BIN_DIR"])] if os.environ.get("CONFOUND_BIN_DIR") else [
    REPO / ".build" / "release", REPO / ".build" / "debug"]
  for folder in candidates:
    if (folder / "confound-host").is_file():
      return folder.resolve()
  tried = ", ".join(str(c) for c in candidates)
  pytest.fail(f"no confound-host in {tried}: run `swift build --product confound-host` (and confound-worker, "
              "confound-plugin-focus) or set CONFOUND_BIN_DIR to the folder holding them", pytrace=False)


def build_plugin(source: Path, output: Path, *defines: str) -> Path:
  """Compiles one C plugin with gcc against Protocol/confound_plugin.h and jansson."""
  gcc = shutil.which("gcc") or shutil.which("cc")
  if gcc is None:
    pytest.fail("gcc is needed to build the C test plugins (apt-get install gcc libjansson-dev)", pytrace=False)
  command = [gcc, "-shared", "-fPIC", "-O2", "-I", str(REPO / "Protocol"), *[f"-D{d}" for d in defines],
             str(source), "-ljansson", "-lm", "-o", str(output)]
  done = subprocess.run(command, capture_output=True, text=True, timeout=120)
  if done.returncode != 0:
    pytest.fail(f"building {source.name} failed:\n{' '.join(command)}\n{done.stderr}", pytrace=False)
  return output


@pytest.fixture(scope="session")
def bin_dir() -> Path:
  return find_bin_dir()


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory) -> Path:
  """A folder with the working C plugins (lab.c-stats, test.misbehave), for --plugin-dir."""
  folder = tmp_path_factory.mktemp("plugins")
  build_plugin(REPO / "Tests/Plugins/CStats/stats_plugin.c", folder / "c_stats.so")
  build_plugin(REPO / "Tests/Plugins/CMisbehave/misbehave_plugin.c", folder / "misbehave.so")
  return folder


@pytest.fixture(scope="session")
def broken_plugins(tmp_path_factory) -> dict[str, Path]:
  """The plugins the host must refuse, one per -D flag of broken_plugin.c, kept out of the --plugin-dir."""
  folder = tmp_path_factory.mktemp("broken")
  source = REPO / "Tests/Plugins/CBroken/broken_plugin.c"
  return {flag: build_plugin(source, folder / f"{flag.lower()}.so", flag)
          for flag in ("NO_ENTRY", "ABI_FUTURE", "BAD_MANIFEST", "CRASH_ON_LOAD")}


def host_command(bin_dir: Path, plugin_dir: Path | None, *extra: str) -> list[str]:
  command = [str(bin_dir / "confound-host")]
  if plugin_dir is not None:
    command += ["--plugin-dir", str(plugin_dir)]
  return command + list(extra)


def host_environment() -> dict[str, str]:
  env = dict(os.environ)
  env["SWIFT_BACKTRACE"] = "enable=no"
  env.pop("CONFOUND_PLUGIN_PATH", None)
  return env


def stop(process: subprocess.Popen) -> None:
  """Ends a host this test started (by its own handle, never by name)."""
  if process.poll() is None:
    process.kill()
  process.wait(timeout=WAIT)


class RawHost:
  """A host on raw pipes: the test writes exact bytes and reads frames parsed here, not by any JSON-RPC library.

  A reader thread splits stdout into `Content-Length` frames and queues the decoded JSON; stderr goes to a file so
  the test can read what the host logged.
  """

  def __init__(self, command: list[str], stderr_path: Path):
    self.stderr_path = stderr_path
    self._stderr = open(stderr_path, "wb")
    self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                    env=host_environment(), bufsize=0)
    self.frames: queue.Queue = queue.Queue()
    self._next_id = 0
    threading.Thread(target=self._read, daemon=True).start()

  def _read(self) -> None:
    stream = self.process.stdout
    while True:
      length = None
      while True:
        line = stream.readline()
        if not line:
          self.frames.put(None)
          return
        if line in (b"\r\n", b"\n"):
          break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
          length = int(value.strip())
      # A raw pipe returns what has arrived: read until the whole body is in (large batch responses span reads).
      body = b""
      while length and len(body) < length:
        chunk = stream.read(length - len(body))
        if not chunk:
          self.frames.put(None)
          return
        body += chunk
      self.frames.put(json.loads(body))

  def send_bytes(self, data: bytes) -> None:
    self.process.stdin.write(data)
    self.process.stdin.flush()

  def send(self, message: dict) -> None:
    body = json.dumps(message).encode()
    self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

  def request(self, method: str, params=None) -> int:
    self._next_id += 1
    message = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
    if params is not None:
      message["params"] = params
    self.send(message)
    return self._next_id

  def response(self, match=lambda m: True, timeout: float = WAIT) -> dict:
    """The next response (a message with an id and no method) that `match` accepts; notifications are skipped."""
    deadline = time.monotonic() + timeout
    while True:
      remaining = deadline - time.monotonic()
      if remaining <= 0:
        raise AssertionError(f"no matching response within {timeout} s; host stderr:\n{self.stderr_text()}")
      try:
        message = self.frames.get(timeout=remaining)
      except queue.Empty:
        continue
      if message is None:
        raise AssertionError(f"the host closed its output; stderr:\n{self.stderr_text()}")
      if "id" in message and "method" not in message and match(message):
        return message

  def call(self, method: str, params=None, timeout: float = WAIT) -> dict:
    """Sends a request and returns its response (result or error)."""
    request_id = self.request(method, params)
    return self.response(lambda m: m["id"] == request_id, timeout)

  def initialize(self) -> dict:
    reply = self.call("initialize", {"processId": os.getpid(), "clientInfo": {"name": "pytest-raw"}})
    assert "result" in reply, reply
    self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    return reply["result"]

  def stderr_text(self) -> str:
    self._stderr.flush()
    return self.stderr_path.read_text(errors="replace")

  def close(self) -> None:
    stop(self.process)
    self._stderr.close()


@pytest.fixture
def raw_host_factory(bin_dir, plugin_dir, tmp_path):
  """Starts raw hosts with extra command-line options; every one is stopped at the end of the test."""
  started: list[RawHost] = []

  def start(*extra: str, plugins: bool = True) -> RawHost:
    host = RawHost(host_command(bin_dir, plugin_dir if plugins else None, *extra),
                   tmp_path / f"host-{len(started)}.stderr")
    started.append(host)
    return host

  yield start
  for host in started:
    host.close()


@pytest.fixture
def raw_host(raw_host_factory) -> RawHost:
  """An initialized raw host with the C test plugins."""
  host = raw_host_factory()
  host.initialize()
  return host
