"""The audit report: time to build it from a run folder, its size, and headless Chromium's time to load it.

  .venv/bin/python Tests/Benchmarks/bench_report.py [--run-dir DIR ...] [--plates 2] [--sites 1]

Without --run-dir, it runs the demo audit (`confound audit --out TMP --plates 2 --sites 1`, the simulated screen) with
the release build, then times `confound report` on it (three builds, the median), and prints the HTML's size with
how much of it is figures. Each --run-dir (the 864-site plate's audit folder, say) is reported the same way.

Chromium's load of the report (`--dump-dom`, networking off) is timed against its load of an empty page in the
same way: the ratio is what the report costs the browser over starting it. The load average before and after is
printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build/release"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--window-size=1400,2400"]


def timed(command: list[str]) -> float:
  start = time.perf_counter()
  subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  return time.perf_counter() - start


def chromium_load(page: Path, profile: Path) -> float:
  return timed([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()])


def report(folder: Path, scratch: Path) -> None:
  html = scratch / f"{folder.name}.html"
  times = [timed([str(BIN / "confound"), "report", str(folder), "--out", str(html)]) for _ in range(3)]
  text = html.read_text()
  images = re.findall(r'src="data:image/png;base64,([^"]*)"', text)
  figure_bytes = sum(len(i) for i in images)
  sites = len(re.findall(r"<tr><td>", text))
  print(f"{folder}: report built in {statistics.median(times):.2f} s (median of 3; {min(times):.2f}-{max(times):.2f})")
  print(f"  report.html {len(text.encode()) / 1e6:.2f} MB, {len(images)} figures = {figure_bytes / 1e6:.2f} MB "
        f"base64 PNG, {sites} table rows")
  empty = scratch / "empty.html"
  empty.write_text("<!DOCTYPE html><html><body></body></html>")
  profile = scratch / "profile"
  base = statistics.median(chromium_load(empty, profile) for _ in range(3))
  load = statistics.median(chromium_load(html, profile) for _ in range(3))
  print(f"  Chromium load (dump-dom, median of 3): report {load:.2f} s, empty page {base:.2f} s, "
        f"ratio {load / base:.2f}x")


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--run-dir", action="append", default=[])
  parser.add_argument("--plates", type=int, default=2)
  parser.add_argument("--sites", type=int, default=1)
  args = parser.parse_args()
  print(f"load average before: {os.getloadavg()[0]:.1f}")
  with tempfile.TemporaryDirectory() as tmp:
    scratch = Path(tmp)
    folders = [Path(d) for d in args.run_dir]
    if not folders:
      demo = scratch / "demo"
      seconds = timed([str(BIN / "confound"), "audit", "--out", str(demo), "--sim-plates", str(args.plates),
                       "--sites", str(args.sites)])
      print(f"demo audit ({args.plates} plates, {args.sites} site a well): {seconds:.1f} s")
      folders = [demo]
    for folder in folders:
      report(folder, scratch)
  print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
  main()
