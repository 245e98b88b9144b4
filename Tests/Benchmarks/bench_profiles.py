"""The audit of a profiles table with no pixels (the LINCS plate SQ00015054: 384 wells, pycytominer CSV.gz), whole
and per stage, against scikit-learn doing the probes the audit does on the same wells.

  .venv/bin/python Tests/Benchmarks/bench_profiles.py [--table FILE] [--control Metadata_pert_type=control]
      [--repeats 3]

Our side: `confound audit TABLE --control ... --out TMP` (release build), wall seconds and the CPU seconds of the
whole process tree (the client, its host and the host's plugin workers, all reaped), and each stage's seconds from
the run store's `stages` table. The median of `--repeats` runs is printed with the spread.

The reference: what the audit's nuisance stage computes, done with scikit-learn on the same wells. The audit reduces
a profile set of hundreds of columns to 32 principal components of the standardised columns, then probes row and
column from the sample wells and row from the control wells, each with 4 stratified folds, a StandardScaler and an
L2 logistic regression (C = 1, L-BFGS, 100 iterations) per fold, balanced accuracy, and 199 label permutations.
scikit-learn's `permutation_test_score` on the same 32 components, with the same folds kind and count and the same
number of permutations, does the same fits (it has no bootstrap interval and no column-permuted baseline, which ours
adds; those cost one cross-validation and no fits respectively). Timed with 1 and with 2 jobs (OpenBLAS on one
thread); our plugin fits permutations side by side on every core. The load average before and after is printed:
the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build/release"))
LINCS = REPO.parent / "shared/data/lincs-SQ00015054-profiles/SQ00015054_normalized_feature_select.csv.gz"


def children_cpu() -> float:
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def our_audit(table: Path, control: str) -> tuple[float, float, dict]:
  """Wall and tree CPU seconds of one audit, and its stages' seconds."""
  with tempfile.TemporaryDirectory(prefix="confound-bench-profiles-") as tmp:
    out = Path(tmp) / "run"
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run([str(BIN / "confound"), "audit", str(table), "--control", control, "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    cpu = children_cpu() - cpu
    with sqlite3.connect(out / "run.sqlite") as db:
      stages = {name: seconds for name, seconds in db.execute(
        "SELECT name, seconds FROM stages WHERE status = 'done' ORDER BY position")}
  return wall, cpu, stages


def sklearn_probes(table: Path, control: str, jobs: int) -> tuple[float, list[str]]:
  """Seconds of scikit-learn's permutation tests of the audit's three probes on the same wells."""
  import pandas as pd
  from sklearn.linear_model import LogisticRegression
  from sklearn.model_selection import StratifiedKFold, permutation_test_score
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  from threadpoolctl import threadpool_limits

  frame = pd.read_csv(table)
  column, value = control.split("=", 1)
  features = [c for c in frame.columns if not c.startswith("Metadata_")]
  x = frame[features].to_numpy(float)
  x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)
  u, s, _ = np.linalg.svd(x, full_matrices=False)
  components = u[:, :32] * s[:32]
  well = frame["Metadata_Well"].astype(str)
  row, col = well.str[0], well.str[1:].astype(int)
  is_control = (frame[column].astype(str) == value).to_numpy()
  probes = [("row, sample wells", ~is_control, row), ("column, sample wells", ~is_control, col),
            ("row, control wells", is_control, row)]
  lines = []
  start = time.perf_counter()
  with threadpool_limits(limits=1, user_api="blas"):
    for name, rows, labels in probes:
      model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=100))
      score, _, p = permutation_test_score(model, components[rows], labels[rows].to_numpy(),
                                           cv=StratifiedKFold(4, shuffle=True, random_state=0), n_permutations=199,
                                           scoring="balanced_accuracy", n_jobs=jobs, random_state=0)
      lines.append(f"{name}: balanced accuracy {score:.3f}, p = {p:.3f}")
  return time.perf_counter() - start, lines


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--table", type=Path, default=LINCS)
  parser.add_argument("--control", default="Metadata_pert_type=control")
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  load = os.getloadavg()
  print(f"{args.table.name}; cores {os.cpu_count()}; load average before {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")
  runs = [our_audit(args.table, args.control) for _ in range(args.repeats)]
  walls = sorted(r[0] for r in runs)
  cpus = sorted(r[1] for r in runs)
  print(f"confound audit: {statistics.median(walls):.1f} s wall (min {walls[0]:.1f}, max {walls[-1]:.1f}), "
        f"{statistics.median(cpus):.1f} CPU-s (client, host and workers)")
  for name in runs[0][2]:
    values = sorted(r[2][name] for r in runs)
    print(f"  {name:<10} {statistics.median(values):7.2f} s")
  nuisance = statistics.median(r[2].get("nuisance", 0.0) for r in runs)
  for jobs in (1, 2):
    seconds, lines = sklearn_probes(args.table, args.control, jobs)
    print(f"scikit-learn permutation_test_score, the nuisance stage's 3 probes, n_jobs={jobs}: {seconds:.1f} s; "
          f"our nuisance stage {nuisance:.1f} s: {seconds / nuisance:.2f}x")
    if jobs == 1:
      for line in lines:
        print(f"  {line}")
  load = os.getloadavg()
  print(f"load average after: {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")


if __name__ == "__main__":
  main()
