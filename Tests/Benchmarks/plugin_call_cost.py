"""The cost of one plugin call through the host, against the same computation called in-process.

  .venv/bin/python Tests/Benchmarks/plugin_call_cost.py [--calls 500]

Out of process: `plugins/run` of lab.c-stats on a 64x64 float32 .npy, strict request/response through the host's
pipes (host -> worker process -> plugin -> back), latency per call from the client's send to its read of the
response. In process: the same .so loaded with ctypes, its vtable's `invoke` called directly on a NumPy buffer
(structs declared below from Protocol/confound_plugin.h), then `free_result`; and once more with `np.load` of the
.npy on every call, since the worker reads the file on every call too. The two results are checked equal first.
"""

from __future__ import annotations

import argparse
import ctypes as C
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from rpc_roundtrips import host_client  # noqa: E402

CF_MAX_DIMS = 6
CF_DTYPE_F32 = 6


class CfTensor(C.Structure):
  _fields_ = [("struct_size", C.c_uint32), ("dtype", C.c_uint32), ("ndim", C.c_uint32), ("reserved", C.c_uint32),
              ("shape", C.c_int64 * CF_MAX_DIMS), ("name", C.c_char_p), ("data", C.c_void_p), ("nbytes", C.c_uint64)]


IsCancelled = C.CFUNCTYPE(C.c_int32, C.c_void_p)
Progress = C.CFUNCTYPE(None, C.c_void_p, C.c_double, C.c_char_p)
Log = C.CFUNCTYPE(None, C.c_void_p, C.c_int32, C.c_char_p)


class CfHostApi(C.Structure):
  _fields_ = [("struct_size", C.c_uint32), ("host_context", C.c_void_p), ("is_cancelled", IsCancelled),
              ("progress", Progress), ("log", Log)]


class CfCall(C.Structure):
  _fields_ = [("struct_size", C.c_uint32), ("n_inputs", C.c_uint32), ("method", C.c_char_p),
              ("params_json", C.c_char_p), ("inputs", C.POINTER(CfTensor)), ("host", C.POINTER(CfHostApi))]


class CfResult(C.Structure):
  _fields_ = [("struct_size", C.c_uint32), ("status", C.c_int32), ("json", C.c_char_p),
              ("outputs", C.POINTER(CfTensor)), ("n_outputs", C.c_uint32), ("reserved", C.c_uint32)]


Invoke = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.POINTER(CfCall), C.POINTER(C.POINTER(CfResult)))
FreeResult = C.CFUNCTYPE(None, C.c_void_p, C.POINTER(CfResult))
Unload = C.CFUNCTYPE(None, C.c_void_p)


class CfPlugin(C.Structure):
  _fields_ = [("abi_version", C.c_uint32), ("struct_size", C.c_uint32), ("manifest_json", C.c_char_p),
              ("context", C.c_void_p), ("invoke", Invoke), ("free_result", FreeResult), ("unload", Unload)]


class InProcessPlugin:
  """A plugin .so called through its C vtable, with no host in between (host services NULL)."""

  def __init__(self, path: Path, host_abi: int = 1):
    self.library = C.CDLL(str(Path(path).resolve()))
    entry = self.library.confound_plugin_entry
    entry.restype = C.POINTER(CfPlugin)
    entry.argtypes = [C.c_uint32]
    self.plugin = entry(host_abi).contents
    self.manifest = json.loads(self.plugin.manifest_json)

  def invoke(self, method: bytes, params_json: bytes, name: bytes, array: np.ndarray) -> str:
    """Calls `invoke` on one float32 C-contiguous tensor and returns the result's JSON text (after free_result)."""
    assert array.dtype == np.float32 and array.flags.c_contiguous
    tensor = CfTensor(struct_size=C.sizeof(CfTensor), dtype=CF_DTYPE_F32, ndim=array.ndim, name=name,
                      data=array.ctypes.data, nbytes=array.nbytes)
    for d, n in enumerate(array.shape):
      tensor.shape[d] = n
    call = CfCall(struct_size=C.sizeof(CfCall), n_inputs=1, method=method, params_json=params_json,
                  inputs=C.pointer(tensor), host=None)
    out = C.POINTER(CfResult)()
    status = self.plugin.invoke(self.plugin.context, C.byref(call), C.byref(out))
    if status != 0 or out.contents.status != 0:
      raise RuntimeError(f"invoke failed: {status}, {out.contents.json if out else None}")
    text = out.contents.json.decode()
    self.plugin.free_result(self.plugin.context, out)
    return text


def build_stats_plugin(folder: Path) -> Path:
  output = folder / "c_stats.so"
  subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-I", str(REPO / "Protocol"),
                  str(REPO / "Tests/Plugins/CStats/stats_plugin.c"), "-ljansson", "-lm", "-o", str(output)], check=True)
  return output


def cpu_seconds(pid: int) -> float:
  """User + system CPU time of a process so far (Linux /proc)."""
  fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
  return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(host_pid: int) -> int:
  """The host's one worker process (started when the plugin was loaded)."""
  children = Path(f"/proc/{host_pid}/task/{host_pid}/children").read_text().split()
  assert len(children) == 1, f"expected one worker process, found {children}"
  return int(children[0])


def summary(latencies: list[float]) -> tuple[float, float]:
  """Median and 95th percentile in microseconds."""
  ordered = sorted(latencies)
  return statistics.median(ordered) * 1e6, ordered[int(0.95 * (len(ordered) - 1))] * 1e6


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--calls", type=int, default=500)
  parser.add_argument("--size", type=int, default=64, help="image side in pixels")
  args = parser.parse_args()
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build" / "release"))
  image = np.random.default_rng(0).uniform(0, 1000, size=(1, args.size, args.size)).astype(np.float32)

  with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    plugin_path = build_stats_plugin(folder)
    npy = folder / "image.npy"
    np.save(npy, image)

    host = host_client(bin_dir, "--plugin-dir", str(folder), "--no-builtin-plugins")
    worker = worker_pid(host.process.pid)
    params = {"plugin": "lab.c-stats", "inputs": [{"name": "image", "npy": str(npy)}], "outputDir": tmp}
    template = host.request_bytes("plugins/run", params)
    os.write(host.wfd, template)
    reply = json.loads(host.read_response())
    assert "result" in reply, reply
    plugin = InProcessPlugin(plugin_path)
    params_json = json.dumps({"parameters": {"trim": 0}, "context": None}).encode()
    local_result = json.loads(plugin.invoke(b"focus.score", params_json, b"image", image))
    assert local_result == reply["result"]["result"], (local_result, reply["result"]["result"])

    # The three ways alternate call by call, so a busy machine slows each of them alike.
    remote, local, with_load = [], [], []
    cpu_before = cpu_seconds(host.process.pid), cpu_seconds(worker)
    for i in range(args.calls + 20):
      t0 = time.perf_counter()
      os.write(host.wfd, template)
      host.read_response()
      t1 = time.perf_counter()
      plugin.invoke(b"focus.score", params_json, b"image", image)
      t2 = time.perf_counter()
      plugin.invoke(b"focus.score", params_json, b"image", np.load(npy))
      t3 = time.perf_counter()
      if i >= 20:
        remote.append(t1 - t0)
        local.append(t2 - t1)
        with_load.append(t3 - t2)
    host_cpu = (cpu_seconds(host.process.pid) - cpu_before[0]) / (args.calls + 20)
    worker_cpu = (cpu_seconds(worker) - cpu_before[1]) / (args.calls + 20)
    host.close()

  rows = [("out of process (host plugins/run)", summary(remote)), ("in process (ctypes invoke)", summary(local)),
          ("in process + np.load per call", summary(with_load))]
  print(f"lab.c-stats on a {args.size}x{args.size} float32 image, {args.calls} calls each (after 20 warm-up)")
  print(f"{'':36}{'median us':>12}{'p95 us':>12}")
  for name, (median, p95) in rows:
    print(f"{name:36}{median:12.1f}{p95:12.1f}")
  print(f"{'ratio out / in process':36}{rows[0][1][0] / rows[1][1][0]:12.1f}{rows[0][1][1] / rows[1][1][1]:12.1f}")
  print(f"overhead per call (median): {rows[0][1][0] - rows[1][1][0]:.1f} us")
  print(f"CPU per call: host {host_cpu * 1e6:.0f} us, worker {worker_cpu * 1e6:.0f} us (the worker's includes the "
        "plugin's own compute)")


if __name__ == "__main__":
  main()
