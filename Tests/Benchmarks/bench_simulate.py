"""Simulation speed (sites/s) of `confound simulate`, release build, through the host.

  .venv/bin/python Tests/Benchmarks/bench_simulate.py [--size 1080] [--sites 9] [--channels 5] [--wells 96]

One plate of 96 wells x 9 sites x 5 channels (16-bit Deflate TIFFs) is rendered into a temporary folder (deleted
afterwards). Two figures for our side: the host's own render time (`seconds` in the screen/simulate response) and
the wall time of the whole command (host start, initialize, render, shutdown).

There is no reference simulator to run, so the reference column is the cost of the output alone: tifffile
(with imagecodecs' zlib, level 6 as libtiff's default) writing the same pixel arrays -- read back from our TIFFs
first, untimed -- as the same 16-bit Deflate TIFFs, one thread. The ratio says how much rendering adds to what
merely encoding and writing the images costs. Our renderer uses every core (wells in parallel); the machine's
core count is printed, and CPU seconds per site beside the wall figures (the machine may be shared).

Binaries: $CONFOUND_BIN_DIR, else .build-screen/release (built here with `swift build -c release` when missing).
"""

from __future__ import annotations

import argparse
import json
import resource
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import tifffile

REPO = Path(__file__).resolve().parents[2]


def binaries() -> Path:
  if "CONFOUND_BIN_DIR" in os.environ:
    return Path(os.environ["CONFOUND_BIN_DIR"])
  out = REPO / ".build-screen" / "release"
  for product in ("confound-host", "confound"):
    if not (out / product).exists():
      subprocess.run(["swift", "build", "-c", "release", "--scratch-path", str(REPO / ".build-screen"),
                      "--product", product], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--size", type=int, default=1080, help="image width and height in pixels")
  parser.add_argument("--sites", type=int, default=9)
  parser.add_argument("--channels", type=int, default=5)
  parser.add_argument("--wells", type=int, default=96)
  parser.add_argument("--reference-sites", type=int, default=96, help="sites the tifffile side writes")
  args = parser.parse_args()
  confound = binaries() / "confound"
  work = Path(tempfile.mkdtemp(prefix="confound-bench-simulate-"))
  try:
    out = work / "screen"
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    response = json.loads(subprocess.run(
      [str(confound), "simulate", "--out", str(out), "--seed", "1", "--plates", "1", "--batches", "1",
       "--wells", str(args.wells), "--sites", str(args.sites), "--channels", str(args.channels),
       "--width", str(args.size), "--height", str(args.size), "--plant", "focus-gradient:0.7,density:0.6", "--json"],
      check=True, capture_output=True, text=True).stdout)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # confound waits for its host, so the host's CPU time is counted among our children's.
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    sites = response["sites"]
    images = sorted((out / "images").glob("*.tif"))
    assert len(images) == sites * args.channels, (len(images), sites)
    written = sum(f.stat().st_size for f in images)

    # The reference: the same arrays written by tifffile, a whole number of sites.
    count = min(args.reference_sites, sites) * args.channels
    arrays = [tifffile.imread(f) for f in images[:count]]
    start = time.perf_counter()
    cpu_start = time.process_time()
    for i, a in enumerate(arrays):
      tifffile.imwrite(work / f"ref{i}.tif", a, compression="zlib", compressionargs={"level": 6})
    reference = (time.perf_counter() - start) / (count / args.channels)
    reference_cpu = (time.process_time() - cpu_start) / (count / args.channels)

    ours = response["seconds"] / sites
    print(f"{sites} sites ({args.wells} wells x {args.sites} sites), {args.channels} channels, "
          f"{args.size}x{args.size} 16-bit Deflate; {len(images)} files, {written / 1e6:.0f} MB written; "
          f"{os.cpu_count()} cores")
    print(f"{'':44}{'sites/s':>10}{'ms/site':>10}")
    print(f"{'confound simulate (render + write, host)':44}{1 / ours:10.2f}{ours * 1e3:10.1f}")
    print(f"{'confound simulate (whole command, wall)':44}{sites / wall:10.2f}{wall / sites * 1e3:10.1f}")
    print(f"{'tifffile writing the same images (1 thread)':44}{1 / reference:10.2f}{reference * 1e3:10.1f}")
    print(f"{'ratio (ours render+write / tifffile write)':44}{reference / ours:10.2f}")
    print(f"CPU seconds per site (independent of other load on the machine): confound {cpu / sites:.3f} "
          f"(all cores), tifffile {reference_cpu:.3f}; ratio {reference_cpu / (cpu / sites):.2f}")
  finally:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
  main()
