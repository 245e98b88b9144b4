"""CNN inference throughput: our embedder (NeuralNet on OpenBLAS) against onnxruntime, same model, same machine.

  .venv/bin/python Tests/Benchmarks/bench_embed.py [--rounds 5] [--size 224]

For EfficientNet-Lite0 (the set-up's model cache) and MobileNetV2 (../shared/models): images per second on a
float32 [32, 3, S, S] batch (S = --size, default 224, the models' declared size) through to the `embedding` output,
on 1 and 2 threads. Ours: the built-in embedder .so loaded in this process with ctypes, its vtable's `invoke` called
with `threads` N, OpenBLAS itself single-threaded (as in the host's workers); onnxruntime: an InferenceSession with
intra_op_num_threads N. At 224 ours gets `raw` (the batch goes through the network unchanged). At any other size
(the audit runs 64, EmbedStage.inputSize) ours gets the crops as the audit sends them, `input_size` S with
`channel_mode` triple and `intensity` none, so its figure includes the plugin's normalisation of 32 x 3 x S x S
values (no resize: the crops are already S px); onnxruntime runs a copy of the model whose input height and width
are symbolic, on the same values normalised beforehand. Both run once before timing (model load, first-touch), then
the two alternate in blocks of 4 batches, the first batch of each block untimed, so that a busy machine slows both
alike and neither is timed on caches and threads the other just used; onnxruntime gets a new session per block, closed
before ours runs (its pool threads spin between runs). The median over the rounds' batches is reported.

GFLOP/s: the model's multiply-adds counted from its graph (Conv and Gemm, shapes by ONNX shape inference), times
2, over the measured time, beside the sgemm peak of the same OpenBLAS the plugin links (1024^3, cblas_sgemm through
ctypes) on the same thread count, measured once the plugin is loaded (its load replaces OpenBLAS 0.3.21's SSE3
fallback kernels on CPUs it does not know, Statistics.BLASKernels; the line names the set).
"""

from __future__ import annotations

import argparse
import ctypes as C
import ctypes.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before any OpenBLAS loads: threads are the network's, as in a worker

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from plugin_call_cost import InProcessPlugin  # noqa: E402

BATCH = 32
# Batches per side per round: each side runs BLOCK batches in a row and the first is not counted, so every timed
# batch finds the caches, the allocator and the threads as a long run leaves them (the audit embeds site after site),
# not as the other side left them.
BLOCK = 4


def timed_block(run) -> list[float]:
  """Seconds of each of BLOCK back-to-back calls of `run`, the first left out."""
  times = []
  for _ in range(BLOCK):
    t0 = time.perf_counter()
    run()
    times.append(time.perf_counter() - t0)
  return times[1:]


def model_flops(path: Path) -> float:
  """2 x the multiply-adds of every Conv and Gemm/MatMul, with shapes from ONNX shape inference."""
  model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
  graph = model.graph
  shapes = {}
  for value in list(graph.value_info) + list(graph.input) + list(graph.output):
    dims = [d.dim_value if d.HasField("dim_value") else 1 for d in value.type.tensor_type.shape.dim]
    shapes[value.name] = dims
  for init in graph.initializer:
    shapes[init.name] = list(init.dims)
  macs = 0
  for node in graph.node:
    if node.op_type == "Conv":
      weight = shapes[node.input[1]]  # [M, C/group, kh, kw]
      out = shapes[node.output[0]]  # [N, M, H, W]
      macs += out[1] * out[2] * out[3] * weight[1] * weight[2] * weight[3]
    elif node.op_type in ("Gemm", "MatMul"):
      a, b = shapes[node.input[0]], shapes[node.input[1]]
      macs += a[-1] * (b[0] if (node.op_type == "Gemm" and any(x.name == "transB" and x.i for x in node.attribute))
                       else b[-1])
  return 2.0 * macs


def openblas() -> C.CDLL:
  """The system OpenBLAS (the one `COpenBLAS` links through pkg-config)."""
  for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
    if name:
      try:
        return C.CDLL(name)
      except OSError:
        pass
  raise SystemExit("no system OpenBLAS found (apt-get install libopenblas-dev)")


def sgemm_peak(blas: C.CDLL, threads: int, n: int = 1024, repeats: int = 5) -> float:
  """GFLOP/s of cblas_sgemm on n x n x n with `threads` OpenBLAS threads (best of `repeats`)."""
  blas.openblas_set_num_threads(threads)
  a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
  b, c = a.copy(), np.zeros_like(a)
  p = lambda x: x.ctypes.data_as(C.POINTER(C.c_float))  # noqa: E731
  blas.cblas_sgemm.argtypes = [C.c_int, C.c_int, C.c_int, C.c_int, C.c_int, C.c_int, C.c_float,
                               C.POINTER(C.c_float), C.c_int, C.POINTER(C.c_float), C.c_int, C.c_float,
                               C.POINTER(C.c_float), C.c_int]
  best = float("inf")
  for _ in range(repeats + 1):
    t0 = time.perf_counter()
    blas.cblas_sgemm(101, 111, 111, n, n, n, 1.0, p(a), n, p(b), n, 0.0, p(c), n)
    best = min(best, time.perf_counter() - t0)
  blas.openblas_set_num_threads(1)
  return 2 * n**3 / best / 1e9


def any_size_model(path: Path) -> bytes:
  """The model with a symbolic input height and width (onnxruntime checks fixed dimensions), inner shapes dropped."""
  model = onnx.load(str(path))
  dims = model.graph.input[0].type.tensor_type.shape.dim
  dims[2].dim_param, dims[3].dim_param = "H", "W"
  del model.graph.value_info[:]
  return model.SerializeToString()


def ort_session(model, threads: int) -> ort.InferenceSession:
  options = ort.SessionOptions()
  options.intra_op_num_threads = threads
  options.inter_op_num_threads = 1
  return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def peaks_in_child(plugin_path: Path) -> tuple[str, dict[int, float]]:
  """OpenBLAS's kernel set and sgemm peak on 1 and 2 threads, measured in a child process that loads the plugin first
  (its load may re-choose the kernels). Not in this process: once OpenBLAS has run on 2 threads its pool thread stays
  and competes for the 2 CPUs with the plugin's own workers (MobileNetV2 at 64 px on 2 threads: 3,346 img/s before
  such a call, 2,269 after), which the host's workers, whose OpenBLAS is set to one thread, never see."""
  out = subprocess.run([sys.executable, __file__, "--sgemm-peaks", str(plugin_path)], check=True,
                       capture_output=True, text=True).stdout
  found = json.loads(out.strip().splitlines()[-1])
  return found["kernels"], {int(t): v for t, v in found["peaks"].items()}


def bench(name: str, path: Path, plugin: InProcessPlugin, rounds: int, peaks: dict[int, float], size: int):
  flops = model_flops(path) * (size / 224) ** 2
  rng = np.random.default_rng(0)
  if size == 224:
    x = ours_x = rng.uniform(-1, 1, (BATCH, 3, size, size)).astype(np.float32)
    extra, model = {"raw": True}, str(path)
  else:
    ours_x = rng.uniform(0, 255, (BATCH, 3, size, size)).astype(np.float32)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    mean, std = (np.array(meta[key].split(","), np.float32).reshape(1, -1, 1, 1) for key in ("input_mean", "input_std"))
    x = ((ours_x - mean) / std).astype(np.float32)
    extra = {"input_size": size, "channel_mode": "triple", "channels": "0,1,2", "intensity": "none"}
    model = any_size_model(path)
  print(f"\n{name}: {path}  ({flops / 1e9:.3f} GFLOP per image at {size} px, batch {BATCH})")
  print(f"{'threads':>8}{'ours img/s':>12}{'ort img/s':>12}{'ours/ort':>10}{'ours GFLOP/s':>14}{'ort GFLOP/s':>13}"
        f"{'sgemm peak':>12}{'ours/peak':>11}")
  for threads in (1, 2):
    params = json.dumps({"parameters": {"model": str(path), "output": "embedding", "threads": threads, **extra},
                         "context": None}).encode()
    session = ort_session(model, threads)
    input_name = session.get_inputs()[0].name
    # Untimed first runs: model load, first touch of every buffer. Agreement with onnxruntime to 1e-4 is the
    # embedder's tests' business (EmbedderPluginTests, MobileNetV2Tests); here both must at least give the same shape.
    reference = session.run(["embedding"], {input_name: x})[0]
    summary = json.loads(plugin.invoke(b"embedder.embed", params, b"crops", ours_x))
    assert (summary["count"], summary["dimension"]) == reference.shape, (summary, reference.shape)
    times_ours, times_ort = [], []
    del session
    for _ in range(rounds):
      times_ours += timed_block(lambda: plugin.invoke(b"embedder.embed", params, b"crops", ours_x))
      # A session of its own per block, gone before the next block of ours: its pool threads spin between runs
      # (`session.intra_op.allow_spinning`, on by default, which makes it fast on small layers) and, alive, took a
      # CPU from the plugin's workers (MobileNetV2 at 64 px on 2 threads: 3,376 img/s alone, 1,897 beside a session).
      session = ort_session(model, threads)
      times_ort += timed_block(lambda: session.run(["embedding"], {input_name: x}))
      del session
    ours_rate, ort_rate = BATCH / statistics.median(times_ours), BATCH / statistics.median(times_ort)
    ours_gflops, ort_gflops = ours_rate * flops / 1e9, ort_rate * flops / 1e9
    print(f"{threads:>8}{ours_rate:12.1f}{ort_rate:12.1f}{ours_rate / ort_rate:10.2f}{ours_gflops:14.1f}"
          f"{ort_gflops:13.1f}{peaks[threads]:12.1f}{ours_gflops / peaks[threads]:11.2f}")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--rounds", type=int, default=5, help="timed batches per side and thread count")
  parser.add_argument("--size", type=int, default=224, help="input height and width in pixels (the audit runs 64)")
  parser.add_argument("--sgemm-peaks", metavar="PLUGIN", help=argparse.SUPPRESS)  # the child of peaks_in_child
  args = parser.parse_args()
  if args.sgemm_peaks:
    InProcessPlugin(Path(args.sgemm_peaks))
    blas = openblas()
    blas.openblas_get_corename.restype = C.c_char_p
    peaks = {t: sgemm_peak(blas, t) for t in (1, 2)}
    print(json.dumps({"kernels": blas.openblas_get_corename().decode(), "peaks": peaks}))
    return
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build" / "release"))
  plugin_path = bin_dir / "libconfound-plugin-embedder.so"
  cache = Path(os.environ.get("CONFOUND_MODEL_DIR", Path.home() / ".cache/confound/models"))
  models = [("EfficientNet-Lite0", cache / "efficientnet_lite0.onnx"),
            ("MobileNetV2 1.0 224", REPO.parent / "shared/models/mobilenet_v2_1.0_224.onnx")]
  kernels, peaks = peaks_in_child(plugin_path)
  plugin = InProcessPlugin(plugin_path)
  load = os.getloadavg()
  print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (shared with other "
        "jobs: figures vary run to run; the ratio, measured alternately, is the stable one)")
  print(f"OpenBLAS kernels {kernels} (chosen by the plugin's load), sgemm 1024^3: {peaks[1]:.1f} GFLOP/s on 1 thread, "
        f"{peaks[2]:.1f} on 2 (measured in a child process)")
  for name, path in models:
    if not path.exists():
      print(f"\n{name}: {path} is missing ({'run bash .ci/setup-models' if 'lite0' in path.name else 'needs ../shared'}"
            "), skipped")
      continue
    bench(name, path, plugin, args.rounds, peaks, args.size)


if __name__ == "__main__":
  main()
