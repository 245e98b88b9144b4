"""confound-host driven by a JSON-RPC client nobody here wrote: python-lsp-jsonrpc's stream reader, writer and
Endpoint (requests as futures, cancellation by future.cancel() sending $/cancelRequest), over the pipes of a real
host process with the C test plugins. Every wait has a deadline, so a broken host fails a test instead of hanging it.

Values are checked against NumPy on the same data: lab.c-stats against mean/std/min/max, confound.focus against
CellProfiler's FocusScore formula.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from concurrent import futures
from pathlib import Path

import numpy as np
import pytest
from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.exceptions import JsonRpcException
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter

from conftest import REPO, SHARED_DATA, WAIT, host_command, host_environment, stop

FOCUS_IMAGE = SHARED_DATA / "bbbc013-sbs-plate" / "Channel2-01-A-01.tif"


def declared_protocol_version() -> str:
  """`confoundProtocolVersion` as declared in the Swift sources, so the wire is checked against the declaration."""
  text = (REPO / "Sources/ConfoundProtocol/RequestType.swift").read_text()
  return re.search(r'confoundProtocolVersion = "([^"]+)"', text).group(1)


class LspHost:
  """A host process spoken to through pylsp_jsonrpc's Endpoint.

  Incoming messages pass a tap before the Endpoint sees them, so a test can also look at the raw response of a
  request whose future it cancelled (the Endpoint itself would drop it: its future is already cancelled).
  """

  def __init__(self, command: list[str], stderr_path: Path):
    self._stderr = open(stderr_path, "wb")
    self.stderr_path = stderr_path
    self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                    env=host_environment())
    self.progress: list[dict] = []
    self.logs: list[dict] = []
    self.raw: list[dict] = []
    self.cancelled_ids: set = set()
    self._condition = threading.Condition()
    self._ids = iter(range(1, 1 << 30))
    self.last_id = 0
    self.writer = JsonRpcStreamWriter(self.process.stdin)
    self.reader = JsonRpcStreamReader(self.process.stdout)
    dispatcher = {"$/progress": self._on_progress, "window/logMessage": self._on_log}
    self.sent: list[dict] = []
    self.endpoint = Endpoint(dispatcher, self._send, id_generator=self._next_id)
    self._reader_thread = threading.Thread(target=self.reader.listen, args=(self._consume,), daemon=True)
    self._reader_thread.start()

  def _send(self, message: dict) -> None:
    self.sent.append(message)
    self.writer.write(message)

  def _next_id(self) -> int:
    self.last_id = next(self._ids)
    return self.last_id

  def start(self, method: str, params=None) -> tuple[int, futures.Future]:
    """Sends a request through the Endpoint; returns its id (tests send from one thread) and its future."""
    future = self.endpoint.request(method, params)
    return self.last_id, future

  def _consume(self, message: dict) -> None:
    with self._condition:
      self.raw.append(message)
      self._condition.notify_all()
    if "method" not in message and message.get("id") in self.cancelled_ids:
      return
    self.endpoint.consume(message)

  def _on_progress(self, params: dict) -> None:
    with self._condition:
      self.progress.append(params)
      self._condition.notify_all()

  def _on_log(self, params: dict) -> None:
    with self._condition:
      self.logs.append(params)

  def request(self, method: str, params=None, timeout: float = WAIT):
    """Sends a request through the Endpoint and waits for its result; errors raise JsonRpcException."""
    return self.endpoint.request(method, params).result(timeout=timeout)

  def wait_for(self, predicate, timeout: float = WAIT, what: str = "a message"):
    """Waits until `predicate()` is truthy (checked whenever a message arrives) and returns its value."""
    deadline = time.monotonic() + timeout
    with self._condition:
      while not (value := predicate()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
          raise AssertionError(f"no {what} within {timeout} s; host stderr:\n{self.stderr_text()}")
        self._condition.wait(remaining)
      return value

  def raw_response(self, request_id, timeout: float = WAIT) -> dict:
    return self.wait_for(lambda: next((m for m in self.raw if m.get("id") == request_id and "method" not in m),
                                      None), timeout, f"response to request {request_id}")

  def stderr_text(self) -> str:
    self._stderr.flush()
    return self.stderr_path.read_text(errors="replace")

  def close(self) -> None:
    self.endpoint.shutdown()
    stop(self.process)
    self._stderr.close()


@pytest.fixture
def host(bin_dir, plugin_dir, tmp_path):
  """An initialized host with the built-in plugins and the C test plugins."""
  h = LspHost(host_command(bin_dir, plugin_dir), tmp_path / "host.stderr")
  h.initialize_result = h.request("initialize", {"processId": os.getpid(), "clientInfo": {"name": "pytest-pylsp"}})
  h.endpoint.notify("initialized", {})
  yield h
  h.close()


def write_npy(path: Path, array: np.ndarray) -> str:
  np.save(path, array)
  return str(path)


def misbehave(mode: str, npy: str, **extra) -> dict:
  params = {"plugin": "test.misbehave", "parameters": {"mode": mode, **extra.pop("parameters", {})},
            "inputs": [{"name": "image", "npy": npy}]}
  params.update(extra)
  return params


@pytest.fixture
def small_image(tmp_path) -> tuple[np.ndarray, str]:
  image = np.random.default_rng(7).uniform(0, 1, size=(1, 16, 16)).astype(np.float32)
  return image, write_npy(tmp_path / "small.npy", image)


def test_initialize_reports_server_protocol_and_plugins(host, plugin_dir):
  result = host.initialize_result
  assert result["serverInfo"]["name"] == "confound-host"
  assert re.fullmatch(r"\d+\.\d+\.\d+", result["serverInfo"]["version"])
  assert result["protocolVersion"] == declared_protocol_version()
  capabilities = result["capabilities"]
  ids = {p["manifest"]["id"] for p in capabilities["plugins"]}
  assert {"confound.focus", "lab.c-stats", "test.misbehave"} <= ids, ids
  for method in ("initialize", "shutdown", "plugins/list", "plugins/load", "plugins/run", "focus/score"):
    assert method in capabilities["methods"]
  assert capabilities["pluginIsolation"] == "process"


def test_plugins_list_gives_manifests_and_paths(host, plugin_dir):
  listing = host.request("plugins/list")
  by_id = {p["manifest"]["id"]: p for p in listing["plugins"]}
  stats = by_id["lab.c-stats"]
  assert stats["manifest"]["kind"] == "focus" and stats["manifest"]["version"] == "1.2.0"
  assert Path(stats["path"]) == (plugin_dir / "c_stats.so").resolve()
  assert [p["name"] for p in stats["manifest"]["parameters"]] == ["trim"]
  assert listing["errors"] == []


def test_c_stats_matches_numpy(host, tmp_path):
  rng = np.random.default_rng(2024)
  image = np.stack([rng.normal(100, 15, (40, 50)), rng.uniform(0, 1, (40, 50)),
                    rng.exponential(3, (40, 50))]).astype(np.float32)
  names = ["DNA", "Actin", "Tubulin"]
  result = host.request("plugins/run", {"plugin": "lab.c-stats", "context": {"channels": names},
                                        "inputs": [{"name": "image", "npy": write_npy(tmp_path / "i.npy", image)}]})
  assert result["plugin"] == "lab.c-stats"
  channels = result["result"]["channels"]
  assert [c["channel"] for c in channels] == names
  for plane, channel in zip(image.astype(np.float64), channels):
    m = channel["measures"]
    expected = {"Intensity_Mean": plane.mean(), "Intensity_StdDev": plane.std(), "Intensity_Min": plane.min(),
                "Intensity_Max": plane.max()}
    for name, value in expected.items():
      assert m[name] == pytest.approx(value, rel=1e-4), (channel["channel"], name)


def test_builtin_focus_score_matches_cellprofiler_formula(host):
  if not FOCUS_IMAGE.exists():
    pytest.skip(f"{FOCUS_IMAGE} is absent (../shared/data is not mounted)")
  import tifffile
  raw = tifffile.imread(FOCUS_IMAGE)
  result = host.request("plugins/run", {"plugin": "confound.focus", "context": {"channels": ["Channel2"]},
                                        "inputs": [{"name": "image", "files": [str(FOCUS_IMAGE)]}]}, timeout=60)
  measures = result["result"]["channels"][0]["measures"]
  # CellProfiler scales the image to [0, 1] by its bit depth's maximum, then takes var / mean (population variance).
  scaled = raw.astype(np.float64) / np.iinfo(raw.dtype).max
  cellprofiler = scaled.var() / scaled.mean()
  # The host passes the storage maximum as context.image_scale and the plugin divides by it, as CellProfiler does.
  assert measures["ImageQuality_FocusScore"] == pytest.approx(cellprofiler, rel=1e-6)
  unscaled = raw.astype(np.float64).var() / raw.astype(np.float64).mean()
  assert measures["ImageQuality_FocusScore"] != pytest.approx(unscaled, rel=1e-3)


def test_cancel_slow_request_answers_request_cancelled(host, small_image):
  _, npy = small_image
  request_id, future = host.start("plugins/run", misbehave("slow", npy, parameters={"seconds": 30},
                                                         workDoneToken="slow-1"))
  host.wait_for(lambda: any(p["token"] == "slow-1" and p["value"]["kind"] == "report" for p in host.progress),
                what="progress report of the slow call")
  sent = time.monotonic()
  # The Endpoint answers a cancelled future itself; the tap keeps the host's own response for this test.
  host.cancelled_ids.add(request_id)
  assert future.cancel(), "the Endpoint's future should still be pending"
  assert any(m.get("method") == "$/cancelRequest" for m in host.sent), "future.cancel() sent no $/cancelRequest"
  reply = host.raw_response(request_id, timeout=10)
  assert reply["error"]["code"] == -32800, reply
  assert time.monotonic() - sent < 5, "the cancel took longer than a few seconds"
  assert host.request("plugins/list")["plugins"], "the host answers after a cancel"


def test_segfault_is_error_1002_and_next_request_works(host, small_image):
  image, npy = small_image
  with pytest.raises(JsonRpcException) as caught:
    host.request("plugins/run", misbehave("segfault", npy))
  assert caught.value.code == 1002
  assert "test.misbehave" in caught.value.message and "signal" in caught.value.message
  assert caught.value.data["plugin"] == "test.misbehave"
  again = host.request("plugins/run", misbehave("ok", npy))
  assert again["result"]["channels"][0]["measures"]["mean"] == pytest.approx(image.astype(np.float64).mean(),
                                                                             rel=1e-6)


def test_hang_with_timeout_is_error_1002(host, small_image):
  _, npy = small_image
  started = time.monotonic()
  with pytest.raises(JsonRpcException) as caught:
    host.request("plugins/run", misbehave("hang", npy, timeoutSeconds=1), timeout=30)
  assert caught.value.code == 1002 and "test.misbehave" in caught.value.message
  assert caught.value.data["timeoutSeconds"] == 1
  assert time.monotonic() - started < 15
  assert host.request("plugins/run", misbehave("ok", npy))["plugin"] == "test.misbehave"


def test_plugin_printing_to_stdout_does_not_corrupt_the_stream(host, small_image):
  image, npy = small_image
  result = host.request("plugins/run", misbehave("print", npy))
  assert result["result"]["channels"][0]["measures"]["mean"] == pytest.approx(float(image.mean()), rel=1e-6)


def test_progress_notifications_for_work_done_token(host, tmp_path):
  image = np.random.default_rng(1).uniform(size=(4, 8, 8)).astype(np.float32)
  _, future = host.start("plugins/run", {"plugin": "lab.c-stats", "workDoneToken": "stats-1",
                                                  "inputs": [{"name": "image", "npy": write_npy(tmp_path / "p.npy", image)}]})
  result = future.result(timeout=WAIT)
  assert len(result["result"]["channels"]) == 4
  # Notifications are consumed before the response on the one reader thread, so all have arrived by now.
  values = [p["value"] for p in host.progress if p["token"] == "stats-1"]
  kinds = [v["kind"] for v in values]
  assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds, kinds
  percentages = [v["percentage"] for v in values if v["kind"] == "report"]
  assert percentages == sorted(percentages) and percentages[-1] == 100, percentages
  without = host.request("plugins/run", {"plugin": "lab.c-stats", "inputs": [{"name": "image", "npy": str(tmp_path / "p.npy")}]})
  assert without["plugin"] == "lab.c-stats"
  assert all(p["token"] == "stats-1" for p in host.progress), "no progress without a workDoneToken"


def test_shutdown_then_exit_ends_with_status_zero(host):
  assert host.request("shutdown") is None
  host.endpoint.notify("exit")
  assert host.process.wait(timeout=WAIT) == 0


def test_exit_without_shutdown_ends_with_status_one(host):
  host.endpoint.notify("exit")
  assert host.process.wait(timeout=WAIT) == 1


# Bad input at the byte level: raw pipes (conftest.RawHost), no JSON-RPC library between the test and the host.

def error_code(reply: dict) -> int:
  assert "error" in reply, reply
  return reply["error"]["code"]


def frame(body: bytes) -> bytes:
  return b"Content-Length: %d\r\n\r\n" % len(body) + body


def null_id_error(reply: dict) -> bool:
  return reply.get("id", "absent") is None


def test_invalid_json_is_parse_error_with_null_id(raw_host):
  raw_host.send_bytes(frame(b'{"jsonrpc": "2.0", "id": 1, "method": '))
  reply = raw_host.response(null_id_error)
  assert error_code(reply) == -32700
  assert "result" in raw_host.call("plugins/list")


def test_invalid_utf8_in_a_string_is_parse_error(raw_host):
  raw_host.send_bytes(frame(b'{"jsonrpc":"2.0","id":77,"method":"plugins/load","params":{"path":"/tmp/\xff\xfe.so"}}'))
  reply = raw_host.response(lambda m: m["id"] in (None, 77))
  assert error_code(reply) == -32700 and reply["id"] is None, reply
  assert "UTF-8" in reply["error"]["message"]
  assert "result" in raw_host.call("plugins/list")


@pytest.mark.parametrize("header", [b"Content-Type: application/json\r\n\r\n", b"Content-Length: twelve\r\n\r\n",
                                    b"Content-Length: -5\r\n\r\n"])
def test_bad_content_length_is_invalid_request_and_host_goes_on(raw_host, header):
  raw_host.send_bytes(header + b'{"jsonrpc":"2.0","id":99,"method":"plugins/list"}')
  reply = raw_host.response(null_id_error)
  assert error_code(reply) == -32600
  assert "Content-Length" in reply["error"]["message"]
  assert "result" in raw_host.call("plugins/list")


def test_message_above_the_limit_is_invalid_request_and_skipped(raw_host_factory):
  host = raw_host_factory("--max-message-bytes", "1000")
  assert host.initialize()["capabilities"]["maxMessageBytes"] == 1000
  padding = "x" * 4000
  host.send_bytes(frame(b'{"jsonrpc":"2.0","id":500,"method":"plugins/list","params":{"pad":"%s"}}' % padding.encode()))
  reply = host.response(null_id_error)
  assert error_code(reply) == -32600 and "1000" in reply["error"]["message"]
  assert "result" in host.call("plugins/list"), "the oversized body was skipped, not parsed as the next frame"


def test_truncated_body_then_eof_ends_the_host_cleanly(raw_host):
  raw_host.send_bytes(b'Content-Length: 100\r\n\r\n{"jsonrpc":"2.0","id":3')
  raw_host.process.stdin.close()
  status = raw_host.process.wait(timeout=WAIT)
  assert status in (0, 1), f"exit status {status} (a negative status is a signal: a crash)"
  assert "ended after" in raw_host.stderr_text() and "100" in raw_host.stderr_text()


def test_unknown_method_is_method_not_found(raw_host):
  reply = raw_host.call("plugins/teleport", {})
  assert error_code(reply) == -32601 and "plugins/teleport" in reply["error"]["message"]


@pytest.mark.parametrize("params", [{"path": 42}, ["/tmp/x.so"], {}])
def test_wrong_params_type_is_invalid_params(raw_host, params):
  reply = raw_host.call("plugins/load", params)
  assert error_code(reply) == -32602, reply
  assert "plugins/load" in reply["error"]["message"]


def test_request_before_initialize_is_server_not_initialized(raw_host_factory):
  host = raw_host_factory()
  reply = host.call("plugins/list")
  assert error_code(reply) == -32002 and "initialize" in reply["error"]["message"]
  assert host.initialize()["serverInfo"]["name"] == "confound-host"


@pytest.mark.parametrize("flag, named", [
  ("NO_ENTRY", "confound_plugin_entry"),
  ("ABI_FUTURE", "ABI"),
  ("BAD_MANIFEST", "telepathy"),
  ("CRASH_ON_LOAD", "crashed"),
])
def test_broken_plugin_load_is_1001_with_the_reason(raw_host, broken_plugins, flag, named):
  path = broken_plugins[flag]
  reply = raw_host.call("plugins/load", {"path": str(path)}, timeout=90)
  assert error_code(reply) == 1001, reply
  reason = reply["error"]["data"]["reason"]
  assert named in reason, reason
  assert reply["error"]["data"]["plugin"] == str(path.resolve())
  listing = raw_host.call("plugins/list")["result"]
  assert any(e["path"] == str(path.resolve()) for e in listing["errors"])
  assert "lab.c-stats" in {p["manifest"]["id"] for p in listing["plugins"]}
