"""The whole audit of one simulated plate, per stage and in total, through the host (release build).

  .venv/bin/python Tests/Benchmarks/bench_audit.py [--sites 9]
      [--channels 5] [--size 1080] [--wells 96] [--screen DIR/load_data.csv] [--keep RUN_DIR]

With --screen, the audit reads a screen rendered beforehand (`confound simulate --out DIR --plates 1 --batches 1
--wells 96 --sites 9 --channels 5 --width 1080 --height 1080 --plant focus-gradient:0.5,density:0.5`; its
barcode_platemap.csv beside the LoadData CSV gives the covariates), so the simulation, which is input generation
and not part of the audit, need not share the machine with the audit being timed.

`audit/run` with no screen simulates one plate (96 wells x 9 sites x 5 channels at 1080 x 1080, focus gradient and
density planted) into a temporary folder, then runs every stage: focus (classical measures and the learned defocus
score), segmentation with per-nucleus features, then the analyses (spatial, density, probes, nuisance probes).
The host uses both cores (two workers per plugin). Printed: seconds per stage from the response, the analyses as
the rest of the audit's wall time, the audit without the simulation, and per-site CPU figures; the CPU time of the
host and its workers is measured from /proc so a loaded machine shows as wall >> CPU / cores. CPU per stage: the
tree's CPU is sampled at each progress report of the request (`workDoneToken`); a stage's CPU is the growth from
its first report to the next stage's first report (the first site's CPU falls in the stage before, the analyses
run between stages fall in the stage before them; embedding and analyses are reported together, since the
embed stages report progress only when they end).

The reference figure is CellProfiler's, quoted from the issue (about a minute of CPU per image set for a comparable
pipeline): there is no CellProfiler in the venv to run on the same images, so it is printed as a quoted figure, not
a measurement. The load average before and after is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from rpc_roundtrips import cpu_seconds, host_client  # noqa: E402


def tree_cpu(pid: int) -> float:
  """CPU seconds of a process plus its children still alive (the host's plugin workers)."""
  total = cpu_seconds(pid)
  for child in Path("/proc").iterdir():
    if not child.name.isdigit():
      continue
    try:
      fields = (child / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == pid:
      total += cpu_seconds(int(child.name))
  return total


def run_with_marks(client, params: dict, first: str) -> dict:
  """Sends `audit/run` and reads until its response; returns the tree's CPU seconds at the first progress report
  of each stage (by the report's first word: simulating, focus, segment, ...), and the response under "reply"."""
  pid = client.process.pid
  marks: dict = {first: tree_cpu(pid)}
  os.write(client.wfd, client.request_bytes("audit/run", params))
  while True:
    message = json.loads(client.read_body())
    if message.get("method") == "$/progress":
      text = (message.get("params", {}).get("value", {}).get("message") or "").split(" ")[0]
      if text and text not in marks:
        marks[text] = tree_cpu(pid)
    elif "id" in message and "method" not in message:
      marks["reply"] = message
      return marks


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--sites", type=int, default=9)
  parser.add_argument("--channels", type=int, default=5)
  parser.add_argument("--size", type=int, default=1080)
  parser.add_argument("--wells", type=int, default=96)
  parser.add_argument("--plant", default="focus-gradient:0.5,density:0.5")
  parser.add_argument("--screen", help="a LoadData CSV to audit instead of simulating (see above)")
  parser.add_argument("--keep", help="write the audit's run folder here and keep it (for bench_report.py --run-dir)")
  args = parser.parse_args()
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build" / "release"))
  work = Path(tempfile.mkdtemp(prefix="confound-bench-audit-"))
  load_before = os.getloadavg()
  try:
    client = host_client(bin_dir)
    start = time.perf_counter()
    run_dir = Path(args.keep).resolve() if args.keep else work / "run"
    params = {"out": str(run_dir), "workDoneToken": "bench"}
    if args.screen:
      params["screen"] = str(Path(args.screen).resolve())
    else:
      params["simulate"] = {"seed": 1, "plates": 1, "batches": 1, "wells": args.wells, "sites": args.sites,
                            "channels": args.channels, "size": args.size, "plant": args.plant}
    marks = run_with_marks(client, params, "reading the screen" if args.screen else "simulate")
    reply = marks.pop("reply")
    wall = time.perf_counter() - start
    # Workers are children of the host; they are alive until the host exits, so read their CPU now.
    cpu = tree_cpu(client.process.pid)
    if "result" not in reply:
      raise SystemExit(f"audit/run failed: {json.dumps(reply)[:2000]}")
    result = reply["result"]
    sites = result["sites"]
    stages = {s["name"]: s["seconds"] for s in result["stages"]}
    simulate = stages.get("simulate", 0.0)
    print(f"{result['plates']} plate, {result['wells']} wells, {sites} sites, {len(result['channels'])} channels, "
          f"{'a rendered screen' if args.screen else f'{args.size} x {args.size} px'}; cores {os.cpu_count()}; load average before "
          f"{load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}")
    for name, seconds in stages.items():
      print(f"  {name:<10} {seconds:8.1f} s  ({1000 * seconds / sites:7.1f} ms per site)")
    analyses = wall - sum(stages.values())
    print(f"  {'analyses':<10} {analyses:8.1f} s  (spatial, density, probes, nuisance; the rest of the wall time)")
    audit = wall - simulate
    print(f"audit without simulation: {audit:.1f} s wall ({audit / 60:.2f} min; aim under 10 min on 2 cores), "
          f"{1000 * audit / sites:.0f} ms per site")
    print(f"host + workers CPU ({'the audit alone' if args.screen else 'simulation included'}): {cpu:.0f} s, {cpu / sites:.2f} s per site "
          f"(CellProfiler, quoted: ~60 s of CPU per image set)")
    print("CPU per stage (host + workers, from progress reports; the machine's other load is not counted):")
    names = list(marks)
    for i, name in enumerate(names):
      end = marks[names[i + 1]] if i + 1 < len(names) else cpu
      label = name if i + 1 < len(names) else f"{name} .. end (embedding, analyses)"
      print(f"  {label:<36} {end - marks[name]:8.1f} CPU-s  ({1000 * (end - marks[name]) / sites:7.1f} ms per site)")
    print(f"findings: {[f['kind'] for f in result['findings']]}")
    client.call("shutdown")
  finally:
    shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}")


if __name__ == "__main__":
  main()
