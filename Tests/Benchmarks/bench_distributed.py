"""Per-site throughput of an audit sharded over Dask against one host, and the merge's cost, release build.

  .venv/bin/python Tests/Benchmarks/bench_distributed.py [--plates 4] [--wells 96] [--sites 1] [--size 256]
                                                          [--channels 3] [--workers 1,2]

One simulated screen (rendered once, untimed) has its per-site stages run three ways into temporary folders
(deleted afterwards): by `confound.distributed.run_shard` tasks (one shard per plate, each task its own host) on a
LocalCluster of 1 and of 2 worker processes, and, the reference, by one host on the whole screen with the same
stages (the host already runs `--workers 2` plugin workers per plugin, so it uses both cores alone). The stages are
those the shards ran: focus, segment and embed with a host that takes `shard`, focus and segment without (then the
embed stage runs after the merge, on one machine, like the analyses, which are not timed here). For each: sites
per second (wall), CPU seconds per site (the hosts' and their plugin workers' CPU, collected as each host exits)
and the ratio of sites/s to the one host. Then `store/merge` of the shard stores, in seconds per 1,000 sites (the
host's own time). The machine may be shared: the load average is printed.

Binaries: $CONFOUND_BIN_DIR, else .build/release.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import confound
from confound import distributed

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--plates", type=int, default=4)
  parser.add_argument("--wells", type=int, default=96)
  parser.add_argument("--sites", type=int, default=1)
  parser.add_argument("--size", type=int, default=256)
  parser.add_argument("--channels", type=int, default=3)
  parser.add_argument("--workers", default="1,2")
  args = parser.parse_args()
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR") or REPO / ".build" / "release").resolve()
  os.environ["CONFOUND_BIN_DIR"] = str(bin_dir)
  from dask.distributed import Client, LocalCluster

  work = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
  try:
    options = {"plates": args.plates, "wells": args.wells, "sites": args.sites, "size": args.size,
               "channels": args.channels, "seed": 5}
    screen = distributed.simulate(work / "screen", options, host=bin_dir)
    print(f"screen: {args.plates} plates x {args.wells} wells x {args.sites} sites, {args.channels} channels, "
          f"{args.size} px; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    rows, merges, modes, sites = [], [], set(), 0
    for workers in [int(w) for w in args.workers.split(",")]:
      out = work / f"dask-{workers}"
      with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
          Client(cluster) as client:
        client.run(lambda: None)  # workers up before the clock starts
        tasks = distributed.plan(screen, out, host=str(bin_dir))
        started = time.monotonic()
        summaries = client.gather(client.map(distributed.run_shard, tasks, retries=3, pure=False))
        wall = time.monotonic() - started
      sites = sum(s["stages"][0]["computed"] for s in summaries)
      modes |= {s["mode"] for s in summaries}
      cpu = sum(s["cpu_seconds"] for s in summaries)
      rows.append((f"dask, {workers} worker{'s' if workers > 1 else ''}", sites / wall, cpu / sites, wall))
      merged = distributed.merge(work / f"merge-{workers}", [t.folder for t in tasks], host=bin_dir)
      merges.append((merged["seconds"], merged["sites"]))

    # The reference: one host, the same stages over the whole screen.
    stage_lists = [distributed.PER_SITE_STAGES] if modes == {"shard"} else [["focus"], ["segment"]]
    before = os.times()
    started = time.monotonic()
    with confound.Host(bin_dir, progress=False) as host:
      for stages in stage_lists:
        confound.audit(screen, out=work / "one", host=host, stages=stages, resume=(work / "one").exists(),
                       progress=False)
    wall = time.monotonic() - started
    after = os.times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    reference = ("one host", sites / wall, cpu / sites, wall)

    print(f"stages: {', '.join(s for stages in stage_lists for s in stages)} ({sites} sites)")
    print(f"\n{'':18} {'sites/s':>8} {'CPU-s/site':>11} {'wall s':>7} {'ratio':>7}")
    for name, rate, cpu_site, seconds in [reference] + rows:
      print(f"{name:18} {rate:8.2f} {cpu_site:11.4f} {seconds:7.1f} {rate / reference[1]:6.2f}x")
    for seconds, merged_sites in merges:
      print(f"merge: {merged_sites} sites in {seconds:.3f} s: {1000 * seconds / merged_sites:.3f} s per 1,000 sites")
  finally:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
  main()
