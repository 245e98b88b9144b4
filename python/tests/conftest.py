"""Fixtures of the Python client's tests: the built binaries, and one tiny simulated screen audited once per
session, which the Run, notebook and Dask tests read.

Binaries: $CONFOUND_BIN_DIR, else <repo>/.build/release (build them with `swift build -c release`). The client
package must be installed (`pip install ./python`, as .ci/setup-tests does).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

import confound
from confound import distributed

REPO = Path(__file__).resolve().parents[2]
# 4 plates x 96 wells x 1 site of 64 px, 2 channels, cut to 24 wells a plate: about 100 sites, seconds to audit.
SCREEN = {"seed": 3, "plates": 4, "batches": 2, "wells": 96, "sites": 1, "channels": 2, "size": 64}
WELLS_PER_PLATE = 24


@pytest.fixture(scope="session")
def bin_dir() -> Path:
  folder = Path(os.environ.get("CONFOUND_BIN_DIR") or REPO / ".build" / "release")
  if not (folder / "confound-host").is_file():
    pytest.fail(f"no confound-host in {folder}: run `swift build -c release` or set CONFOUND_BIN_DIR", pytrace=False)
  os.environ["CONFOUND_BIN_DIR"] = str(folder.resolve())
  # One OpenBLAS thread in the hosts, as their plugin workers already have. Without it, two runs of the whole-screen
  # analyses on bit-identical stores once differed in the last bit of a PCA-based figure (batch-mixing pcRegression
  # 0.006726238536963252 vs ...253) and in the t-SNE coordinates (up to 11 apart; the t-SNE starts from a PCA), while
  # a rerun of either reproduced the other run's t-SNE exactly: a nondeterminism of the analyses (multithreaded
  # OpenBLAS in the host is the likely source), not of the merge. With one thread the runs have agreed.
  os.environ["OPENBLAS_NUM_THREADS"] = "1"
  os.environ.setdefault("SWIFT_BACKTRACE", "enable=no")
  return folder.resolve()


@pytest.fixture(scope="session")
def screen(bin_dir, tmp_path_factory) -> Path:
  """The tiny screen's LoadData CSV: the simulated 4-plate screen, its first 24 wells of each plate (a LoadData CSV
  beside the simulated one, so the barcode platemap and the relative image folders still apply)."""
  out = tmp_path_factory.mktemp("screen")
  full = distributed.simulate(out, SCREEN, host=bin_dir)
  with open(full, newline="") as file:
    reader = csv.DictReader(file)
    rows = list(reader)
    fields = reader.fieldnames
  keep = {w for w in sorted({r["Metadata_Well"] for r in rows})[:WELLS_PER_PLATE]}
  small = full.parent / "load_data_small.csv"
  with open(small, "w", newline="") as file:
    writer = csv.DictWriter(file, fieldnames=fields)
    writer.writeheader()
    writer.writerows(r for r in rows if r["Metadata_Well"] in keep)
  return small


@pytest.fixture(scope="session")
def single_run(screen, tmp_path_factory) -> confound.Run:
  """The tiny screen audited on one machine, by one host."""
  out = tmp_path_factory.mktemp("single") / "run"
  return confound.audit(screen, out=out, progress=False)
