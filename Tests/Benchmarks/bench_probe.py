"""Logistic-regression fit and grouped cross-validation time of the probe plugin against scikit-learn.

  .venv/bin/python Tests/Benchmarks/bench_probe.py [--rows 100000]
      [--features 1280] [--classes 10] [--folds 5] [--small-repeats 20] [--threads 1,2] [--skip-large]

The same float64 matrix (class means in a 32-dimensional subspace plus unit noise; groups of 50 rows) is written as
one .npy. Our side: `plugins/run` of the built-in probe through the host, GroupKFold(folds), a StandardScaler and an
L2 LogisticRegression (C=1, L-BFGS, max_iter 100, tol 1e-4) per fold; the figure is the plugin's own wall time of
that cross-validation (`seconds.cross_validation`, so loading the .npy and the host round trip are left out).
scikit-learn's side: the same folds, `make_pipeline(StandardScaler(), LogisticRegression())` fitted per fold and
`predict_proba` on the test fold, timed the same way. Both sides are run with 1 and with 2 threads: OpenBLAS's
threads on scikit-learn's side (threadpoolctl); on ours the plugin's `threads` parameter, the threads each fit
splits its rows among while OpenBLAS stays on one (its own threads slowed our thin products) -- the plugin's
automatic choice (one thread below 4 million feature values) comes from these measurements. Balanced accuracies are printed to
show both did the same work.

A small fit (2,000 x 50, 3 classes, 5 folds) is repeated `--small-repeats` times; the median is reported.
The machine is shared with other jobs: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from rpc_roundtrips import host_client  # noqa: E402


def make_data(rows: int, features: int, classes: int, seed: int = 0):
  rng = np.random.default_rng(seed)
  y = rng.integers(0, classes, size=rows)
  means = rng.normal(size=(classes, 32)) * 0.35
  basis = rng.normal(size=(32, features)) / np.sqrt(32)
  x = rng.normal(size=(rows, features)) + (means[y] @ basis)
  groups = np.arange(rows) // 50
  return x, y, groups


def sklearn_cv(x, y, groups, folds: int, threads: int):
  from sklearn.linear_model import LogisticRegression
  from sklearn.metrics import balanced_accuracy_score
  from sklearn.model_selection import GroupKFold
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  from threadpoolctl import threadpool_limits

  classes = np.unique(y)
  p = np.zeros((len(y), len(classes)))
  fits = []
  with threadpool_limits(limits=threads, user_api="blas"):
    start = time.perf_counter()
    for train, test in GroupKFold(folds).split(x, y, groups):
      t = time.perf_counter()
      model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(x[train], y[train])
      fits.append(time.perf_counter() - t)
      p[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(x[test])
    total = time.perf_counter() - start
  return total, fits, balanced_accuracy_score(y, classes[p.argmax(axis=1)])


def ours_cv(client, npy: Path, y, groups, folds: int, threads: int):
  reply = client.call("plugins/run", {
    "kind": "probe", "inputs": [{"name": "features", "npy": str(npy)}],
    "parameters": {"cv": "group-kfold", "folds": folds, "permutations": 1, "bootstraps": 1, "threads": threads},
    "context": {"labels": [str(v) for v in y], "groups": [str(g) for g in groups]},
  })
  if "result" not in reply:
    raise SystemExit(f"plugins/run failed: {reply}")
  result = reply["result"]["result"]
  return result["seconds"]["cross_validation"], result["metrics"]["overall"]["balanced_accuracy"]


def compare(client, work: Path, rows: int, features: int, classes: int, folds: int, repeats: int,
            thread_counts: list[int]):
  x, y, groups = make_data(rows, features, classes)
  npy = work / f"x_{rows}_{features}.npy"
  np.save(npy, x)
  print(f"\n{rows} x {features}, {classes} classes, GroupKFold({folds}), {repeats} run(s) per cell; "
        f"load average {os.getloadavg()[0]:.1f}")
  print(f"{'threads':>7} {'ours s':>9} {'sklearn s':>10} {'ratio':>7} {'ours/fit':>9} {'sk/fit':>8} "
        f"{'ours bal.acc':>12} {'sk bal.acc':>10}")
  for threads in thread_counts:
    ours = [ours_cv(client, npy, y, groups, folds, threads) for _ in range(repeats)]
    theirs = [sklearn_cv(x, y, groups, folds, threads) for _ in range(repeats)]
    o = statistics.median(t for t, _ in ours)
    s = statistics.median(t for t, _, _ in theirs)
    sk_fit = statistics.median(f for _, fits, _ in theirs for f in fits)
    print(f"{threads:>7} {o:>9.3f} {s:>10.3f} {s / o:>6.2f}x {o / folds:>9.3f} {sk_fit:>8.3f} "
          f"{ours[0][1]:>12.4f} {theirs[0][2]:>10.4f}")
  npy.unlink()


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--rows", type=int, default=100_000)
  parser.add_argument("--features", type=int, default=1280)
  parser.add_argument("--classes", type=int, default=10)
  parser.add_argument("--folds", type=int, default=5)
  parser.add_argument("--small-repeats", type=int, default=20)
  parser.add_argument("--skip-large", action="store_true")
  parser.add_argument("--threads", default="1,2", help="OpenBLAS thread counts to compare, e.g. 2")
  args = parser.parse_args()
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build" / "release"))
  print(f"cores {os.cpu_count()}; ratio = scikit-learn seconds / ours (above 1: ours faster); "
        f"'/fit' = one fold's fit (ours: cross-validation / folds, which includes predicting the test fold)")
  client = host_client(bin_dir)
  with tempfile.TemporaryDirectory(prefix="confound-bench-probe-") as tmp:
    threads = [int(t) for t in args.threads.split(",")]
    compare(client, Path(tmp), 2000, 50, 3, args.folds, args.small_repeats, threads)
    if not args.skip_large:
      compare(client, Path(tmp), args.rows, args.features, args.classes, args.folds, 1, threads)
  print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
  main()
