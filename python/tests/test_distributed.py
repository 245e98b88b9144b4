"""confound.distributed on a dask.distributed LocalCluster of 2 worker processes, on the tiny 4-plate screen: the
merged store of the sharded audit equals the store of the one-machine audit (sites, units, measurements and
object values bit for bit, arrays byte for byte, findings), also when a worker is killed in the middle of a shard.
Merges that must be refused are refused through the host."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import confound
from confound import distributed

dask_distributed = pytest.importorskip("dask.distributed")


def bits(value):
  return None if value is None else struct.pack("<d", value).hex() if isinstance(value, float) else value


def contents(run_dir: Path) -> dict:
  """A store's tables keyed by site (plate, well, site) instead of its id, REALs as their 8 bytes, arrays by their
  file contents; findings as the audit reported them."""
  db = sqlite3.connect(run_dir / "run.sqlite")
  site = "s.plate, s.well, s.site"
  has_findings = (run_dir / "findings.json").is_file()

  def rows(sql):
    return sorted(tuple(bits(v) for v in row) for row in db.execute(sql))

  arrays = {}
  for name, path, shape, dtype in db.execute("SELECT name, path, shape, dtype FROM arrays"):
    arrays[name] = (shape, dtype, (run_dir / path).read_bytes())
  # Every column of the findings the store holds (the schema grows), less those that name a moment or a row id.
  cursor = db.execute("SELECT * FROM findings")
  names = [c[0] for c in cursor.description]
  stored_findings = sorted(tuple(bits(v) for n, v in zip(names, row) if n not in ("id", "created", "finished_at"))
                           for row in cursor)
  return {
    "sites": rows("SELECT plate, well, site, covariates FROM sites"),
    "units": rows("SELECT stage, key, status, message FROM units"),
    "measurements": rows(f"SELECT {site}, m.name, m.value FROM measurements m JOIN sites s ON s.id = m.site_id"),
    "objects": rows(f"SELECT {site}, o.object, o.name, o.value FROM objects o JOIN sites s ON s.id = o.site_id"),
    "image inputs": rows("SELECT path, sha256, size FROM inputs WHERE path NOT LIKE '%.csv'"),
    "plugins": rows("SELECT id, version, abi FROM plugins"),
    "arrays": arrays,
    "findings (store)": stored_findings,
    "findings": json.loads((run_dir / "findings.json").read_text()) if has_findings else None,
  }


def assert_same_store(merged: Path, single: Path) -> None:
  a, b = contents(merged), contents(single)
  assert a["measurements"] and a["objects"] and a["arrays"]
  for table in b:
    assert a[table] == b[table], f"{table} differs between {merged} and {single}"


@pytest.fixture(scope="module")
def cluster():
  with dask_distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
    with dask_distributed.Client(c) as client:
      yield client


def test_sharded_audit_equals_the_one_machine_audit(cluster, screen, single_run, bin_dir, tmp_path):
  run = distributed.audit(screen, out=tmp_path / "dist", client=cluster, host=bin_dir, progress=False)
  shards = run.result["shards"]
  assert sorted(p for s in shards for p in s["plates"]) == sorted(single_run.sites["plate"].unique())
  assert run.result["merge"]["sites"] == len(single_run.sites)
  assert_same_store(run.dir, single_run.dir)
  # The same merge by the command line, for any scheduler: the shards' values, bit for bit, are the merged store's.
  shard_dirs = sorted(str(p) for p in (tmp_path / "dist" / "shards").iterdir() if p.is_dir())
  merged = subprocess.run([str(bin_dir / "confound"), "merge", str(tmp_path / "cli"), *shard_dirs],
                          capture_output=True, text=True, timeout=120)
  assert merged.returncode == 0, merged.stderr
  assert f"merged {len(shard_dirs)} store(s)" in merged.stdout
  cli, final = contents(tmp_path / "cli"), contents(run.dir)
  assert cli["sites"] == final["sites"] and cli["objects"] == final["objects"]
  assert cli["measurements"] and set(cli["measurements"]) <= set(final["measurements"])
  # A second call finds every shard finished: nothing is recomputed, the result is the same.
  again = distributed.audit(screen, out=tmp_path / "dist", client=cluster, host=bin_dir, progress=False)
  assert all(s["skipped"] for s in again.result["shards"])
  assert_same_store(again.dir, single_run.dir)


def test_a_worker_killed_mid_shard_still_gives_the_same_result(cluster, screen, single_run, bin_dir, tmp_path):
  out = tmp_path / "killed"
  outcome = {}

  def audit():
    try:
      outcome["run"] = distributed.audit(screen, out=out, client=cluster, host=bin_dir, progress=False)
    except BaseException as error:  # reported by the assertion below
      outcome["error"] = error

  thread = threading.Thread(target=audit)
  thread.start()
  # Wait until some shard has finished sites but is not done, then kill the worker process running it.
  killed = None
  deadline = time.monotonic() + 120
  while killed is None and time.monotonic() < deadline and thread.is_alive():
    for store in sorted(out.glob("shards/*/run.sqlite")):
      if (store.parent / "done.json").exists():
        continue
      try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
          done = db.execute("SELECT count(*) FROM units WHERE status = 'done'").fetchone()[0]
      except sqlite3.Error:
        continue
      if done >= 3:
        processing = {w: keys for w, keys in cluster.processing().items() if keys}
        pids = cluster.run(os.getpid, workers=list(processing))
        if pids:
          address, pid = next(iter(pids.items()))
          os.kill(pid, signal.SIGKILL)  # the worker process this test's cluster started, by its id
          killed = (store.parent.name, address, done)
        break
    time.sleep(0.05)
  thread.join(timeout=300)
  assert killed is not None, "no shard was caught in the middle of its sites"
  assert "error" not in outcome, outcome.get("error")
  run = outcome["run"]
  # Some shard was resumed: its finished sites were kept, not recomputed.
  resumed = [s for shard in run.result["shards"] for s in shard.get("stages", []) if s.get("resumed", 0) > 0]
  assert resumed, run.result["shards"]
  assert_same_store(run.dir, single_run.dir)


def test_merges_that_must_be_refused(bin_dir, single_run, screen, tmp_path):
  with confound.Host(bin_dir, progress=False) as host:
    # The one-machine store holds the analyses' results: merging it would skip them on the merged store.
    with pytest.raises(confound.HostError) as analysed:
      host.call("store/merge", out=str(tmp_path / "m1"), stores=[str(single_run.dir)])
    assert analysed.value.code == -32602 and "whole-screen results" in analysed.value.message
    assert analysed.value.data["store"] == str(single_run.store)
    # Shards of another simulation (another seed): other parameters.
    a = confound.audit(screen, out=tmp_path / "a", host=host, progress=False, stages=["focus"],
                       focus_measure="ImageQuality_FocusScore_DNA")
    b = confound.audit(screen, out=tmp_path / "b", host=host, progress=False, stages=["focus"])
    with pytest.raises(confound.HostError) as other:
      host.call("store/merge", out=str(tmp_path / "m2"), stores=[str(a.dir), str(b.dir)])
    assert other.value.code == -32602 and "focusMeasure" in other.value.message
    assert not (tmp_path / "m2" / "run.sqlite").exists()
