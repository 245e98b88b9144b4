"""Issue 18 through the built binaries: bounded batches and error texts, plugin loading that cannot hold the host,
cleanup on every way out, and the CLI's view of a host that died. Byte-level tests use conftest.RawHost (no
JSON-RPC library between the test and the host); every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, WAIT, RawHost, build_plugin, host_command, host_environment, stop

SCRATCH_BASE = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.environ.get("TMPDIR", "/tmp"))


def frame(body: bytes) -> bytes:
  return b"Content-Length: %d\r\n\r\n" % len(body) + body


def next_frame(host: RawHost, timeout: float = WAIT):
  """The next frame of any kind (a batch response is a list), skipping notifications."""
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    message = host.frames.get(timeout=max(0.01, deadline - time.monotonic()))
    if message is None:
      raise AssertionError(f"the host closed its output; stderr:\n{host.stderr_text()}")
    if isinstance(message, list) or "method" not in message:
      return message
  raise AssertionError("no frame in time")


def processes_mentioning(text: str) -> list[int]:
  """Pids of live processes whose command line contains `text` (read from /proc, nothing is signalled)."""
  found = []
  for entry in Path("/proc").iterdir():
    if not entry.name.isdigit():
      continue
    try:
      if text in (entry / "cmdline").read_bytes().decode(errors="replace") and \
          not (entry / "stat").read_text().rsplit(")", 1)[1].strip().startswith("Z"):
        found.append(int(entry.name))
    except OSError:
      continue
  return found


def wait_until(predicate, timeout: float = 5.0) -> bool:
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    if predicate():
      return True
    time.sleep(0.05)
  return predicate()


@pytest.fixture(scope="session")
def hang_plugin(tmp_path_factory) -> Path:
  folder = tmp_path_factory.mktemp("hang")
  return build_plugin(REPO / "Tests/Plugins/CBroken/broken_plugin.c", folder / "hang_on_load.so", "HANG_ON_LOAD")


def test_batch_over_the_element_limit_is_refused_whole(raw_host_factory):
  host = raw_host_factory("--max-batch", "10")
  host.initialize()
  batch = [{"jsonrpc": "2.0", "id": i, "method": "plugins/list"} for i in range(11)]
  host.send_bytes(frame(json.dumps(batch).encode()))
  reply = next_frame(host)
  assert isinstance(reply, dict) and reply["id"] is None, reply
  assert reply["error"]["code"] == -32600 and "over the limit of 10" in reply["error"]["message"]
  host.send_bytes(frame(json.dumps(batch[:10]).encode()))
  ten = next_frame(host)
  assert sorted(r["id"] for r in ten) == list(range(10)) and all("result" in r for r in ten)


def test_batch_response_is_bounded_by_the_message_limit(raw_host_factory):
  host = raw_host_factory("--max-message-bytes", "30000")
  host.initialize()
  one = len(json.dumps(host.call("plugins/list")).encode())
  count = 60
  assert one * count > 30000, "the test needs a batch whose responses exceed the limit"
  batch = [{"jsonrpc": "2.0", "id": i, "method": "plugins/list"} for i in range(count)]
  host.send_bytes(frame(json.dumps(batch).encode()))
  replies = next_frame(host)
  assert len(json.dumps(replies, separators=(",", ":"), ensure_ascii=False).encode()) <= 30000
  assert sorted(r["id"] for r in replies) == list(range(count)), "every request answered exactly once"
  over = [r for r in replies if "error" in r]
  assert over and all("would exceed 30000 bytes" in r["error"]["message"] for r in over)
  assert any("result" in r for r in replies)


def test_a_long_method_name_is_not_echoed(raw_host):
  method = "m" * (4 << 20)
  reply = raw_host.call(method, {})
  assert reply["error"]["code"] == -32601
  assert len(json.dumps(reply)) < 1000, len(json.dumps(reply))
  assert f"({len(method)} bytes)" in reply["error"]["message"]


def test_an_integral_float_id_is_answered(raw_host):
  raw_host.send_bytes(frame(b'{"jsonrpc":"2.0","id":3.0,"method":"plugins/list"}'))
  reply = raw_host.response(lambda m: m["id"] == 3)
  assert "result" in reply, reply


def test_content_length_too_large_to_represent(raw_host):
  raw_host.send_bytes(b"Content-Length: 99999999999999999999999999\r\n\r\n")
  reply = raw_host.response(lambda m: m["id"] is None)
  assert "too large to represent" in reply["error"]["message"], reply
  assert "result" in raw_host.call("plugins/list")


def test_timeout_seconds_must_be_positive(raw_host, tmp_path):
  npy = tmp_path / "i.npy"
  np.save(npy, np.ones((1, 4, 4), np.float32))
  reply = raw_host.call("plugins/run", {"plugin": "test.misbehave", "inputs": [{"name": "image", "npy": str(npy)}],
                                        "timeoutSeconds": 0})
  assert reply["error"]["code"] == -32602 and reply["error"]["data"]["field"] == "timeoutSeconds", reply


def test_a_plugin_that_never_loads_holds_nothing(bin_dir, hang_plugin, tmp_path):
  host = RawHost(host_command(bin_dir, hang_plugin.parent, "--plugin-load-timeout", "1"), tmp_path / "h.stderr")
  try:
    started = time.monotonic()
    result = host.initialize()
    assert time.monotonic() - started < 8
    reasons = [e["reason"] for e in result["capabilities"]["pluginErrors"] if e["path"] == str(hang_plugin)]
    assert reasons and "did not finish loading within 1 s" in reasons[0], result["capabilities"]["pluginErrors"]
    assert "crashed" not in reasons[0]
    assert "confound.focus" in {p["manifest"]["id"] for p in result["capabilities"]["plugins"]}
    assert wait_until(lambda: not processes_mentioning(str(hang_plugin))), "the stuck worker was left running"
  finally:
    host.close()


def test_exit_is_heard_while_plugins_load(bin_dir, hang_plugin, tmp_path):
  host = RawHost(host_command(bin_dir, hang_plugin.parent, "--plugin-load-timeout", "60"), tmp_path / "h.stderr")
  try:
    host.request("initialize", {"processId": os.getpid()})
    time.sleep(0.5)
    host.send({"jsonrpc": "2.0", "method": "exit"})
    assert host.process.wait(timeout=5) == 1
    assert wait_until(lambda: not processes_mentioning(str(hang_plugin))), "its worker outlived the host"
  finally:
    host.close()


def test_plugins_load_can_be_cancelled(raw_host_factory, hang_plugin):
  host = raw_host_factory("--plugin-load-timeout", "60")
  host.initialize()
  request_id = host.request("plugins/load", {"path": str(hang_plugin)})
  time.sleep(0.5)
  sent = time.monotonic()
  host.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request_id}})
  reply = host.response(lambda m: m["id"] == request_id, timeout=10)
  assert reply["error"]["code"] == -32800, reply
  assert time.monotonic() - sent < 5


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_ends_workers_and_removes_the_scratch_folder(raw_host, tmp_path, number):
  npy = tmp_path / "i.npy"
  np.save(npy, np.ones((1, 4, 4), np.float32))
  reply = raw_host.call("plugins/run", {"plugin": "test.misbehave", "parameters": {"mode": "fork-orphan"},
                                        "inputs": [{"name": "image", "npy": str(npy)}]})
  child = reply["result"]["result"]["child"]
  scratch = SCRATCH_BASE / f"confound-{raw_host.process.pid}"
  assert scratch.is_dir(), "a call without outputDir made the scratch folder"
  raw_host.process.send_signal(number)
  assert raw_host.process.wait(timeout=WAIT) == 128 + number
  assert not scratch.exists(), f"{scratch} left behind after {number.name}"
  assert wait_until(lambda: not Path(f"/proc/{child}").exists() or
                    Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].strip().startswith("Z")), \
    "a child the plugin forked outlived the host"


def test_stale_scratch_folders_are_removed_at_start(raw_host_factory):
  dead = subprocess.Popen(["/bin/true"])
  dead.wait()
  stale = SCRATCH_BASE / f"confound-{dead.pid}"
  stale.mkdir(exist_ok=True)
  (stale / "left.npy").write_bytes(b"x")
  host = raw_host_factory()
  host.initialize()
  assert not stale.exists()


def test_cli_names_the_signal_that_killed_its_host(bin_dir, tmp_path):
  fake = tmp_path / "dying-host"
  fake.write_text("#!/bin/sh\nkill -9 $$\n")
  fake.chmod(0o755)
  done = subprocess.run([str(bin_dir / "confound"), "plugins", "list", "--host", str(fake)], capture_output=True,
                        text=True, timeout=WAIT, env=host_environment())
  assert done.returncode != 0
  assert "killed by signal 9" in done.stderr, done.stderr
  assert "status 0" not in done.stderr


def test_cli_returns_after_its_hosts_workers_have_exited(bin_dir, plugin_dir):
  done = subprocess.run([str(bin_dir / "confound"), "plugins", "list", "--plugin-dir", str(plugin_dir)],
                        capture_output=True, text=True, timeout=60, env=host_environment())
  assert done.returncode == 0, done.stderr
  assert "test.misbehave" in done.stdout
  assert processes_mentioning(str(plugin_dir)) == [], "workers still running after confound returned"


def alive(pid: int) -> bool:
  """True while `pid` runs (a zombie waiting for its reaper counts as gone)."""
  try:
    return not Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].strip().startswith("Z")
  except OSError:
    return False


def test_a_sigkilled_hosts_workers_and_their_children_end(bin_dir, plugin_dir, hang_plugin, tmp_path):
  """SIGKILL cannot be caught, so the host cannot end its workers then: each worker notices that its parent is gone
  and ends its process group (the plugin's forked child included), even one stuck in a plugin's entry point; the
  next host removes the dead host's scratch folder."""
  host = RawHost(host_command(bin_dir, plugin_dir, "--plugin-load-timeout", "60"), tmp_path / "h.stderr")
  try:
    host.initialize()
    npy = tmp_path / "i.npy"
    np.save(npy, np.ones((1, 4, 4), np.float32))
    reply = host.call("plugins/run", {"plugin": "test.misbehave", "parameters": {"mode": "fork-orphan"},
                                      "inputs": [{"name": "image", "npy": str(npy)}]})
    child = reply["result"]["result"]["child"]
    worker = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert worker != host.process.pid and str(plugin_dir) in Path(f"/proc/{worker}/cmdline").read_text()
    host.request("plugins/load", {"path": str(hang_plugin)})
    assert wait_until(lambda: processes_mentioning(str(hang_plugin))), "no worker loading the plugin that never loads"
    loading = processes_mentioning(str(hang_plugin))
    scratch = SCRATCH_BASE / f"confound-{host.process.pid}"
    assert scratch.is_dir()
    host.process.kill()
    host.process.wait(timeout=WAIT)
    left = [child, worker, *loading]
    assert wait_until(lambda: not any(alive(p) for p in left)), \
      f"still running after the host was killed: {[p for p in left if alive(p)]}"
  finally:
    host.close()
  assert scratch.is_dir(), "nothing but the next host removes a SIGKILLed host's scratch folder"
  following = RawHost(host_command(bin_dir, None), tmp_path / "next.stderr")
  try:
    following.initialize()
    assert not scratch.exists(), f"{scratch} of the killed host was not removed by the next host"
  finally:
    following.close()


def test_a_failure_in_the_workers_own_reading_is_not_blamed_on_the_plugin(raw_host_factory, tmp_path):
  """The worker reads a call's inputs before the plugin runs. A read that fails (here: out of memory, by an address
  space limit set on the worker) is the input's error naming the file; a crash there (an allocation that fails
  after the read) names the worker and the file, not the plugin; and a fresh worker serves the next call."""
  host = raw_host_factory("--workers", "1")
  host.initialize()
  small = tmp_path / "s.npy"
  np.save(small, np.full((1, 4, 4), 7.5, np.float32))
  call = lambda path: host.call("plugins/run", {"plugin": "test.misbehave", "inputs": [{"name": "image", "npy": str(path)}]})
  assert "result" in call(small)
  # A sparse .npy of 256 MiB of zeros: valid, costs no disk.
  big = tmp_path / "big.npy"
  header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8192, 8192), }".ljust(128 - 11) + "\n"
  with open(big, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    f.truncate(128 + 4 * 8192 * 8192)

  def limit_worker(headroom: int) -> None:
    workers = [p for p in processes_mentioning("misbehave.so") if p != host.process.pid]
    assert len(workers) == 1, workers
    size = int(next(l for l in Path(f"/proc/{workers[0]}/status").read_text().splitlines()
                    if l.startswith("VmSize")).split()[1]) * 1024
    hard = resource.prlimit(workers[0], resource.RLIMIT_AS)[1]
    resource.prlimit(workers[0], resource.RLIMIT_AS, (size + headroom, hard))  # the soft limit only: raised again

  limit_worker(128 << 20)  # the file's 256 MiB cannot be read into memory
  error = call(big)["error"]
  assert error["code"] == 1004 and error["data"]["file"] == str(big), error
  assert error["message"].startswith(f"input image: {big} could not be read") and "plugin was not called" in error["message"]
  assert "plugin" not in error["data"]
  limit_worker(384 << 20)  # the read fits, the copy made from it does not: the worker traps
  error = call(big)["error"]
  assert error["code"] == -32603, error
  assert "confound-worker crashed (signal" in error["message"] and str(big) in error["message"], error
  assert "before plugin test.misbehave was called: the plugin is not at fault" in error["message"], error
  assert error["data"]["files"] == [str(big)]
  assert call(small)["result"]["result"]["channels"][0]["measures"]["mean"] == 7.5
