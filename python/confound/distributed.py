"""Audits sharded over a Dask cluster: the per-site stages of each shard of plates on a worker, into a store of
the shard's own, the stores merged exactly (``store/merge``), then the whole-screen analyses once.

Layout of ``out``::

  out/screen/                 the simulated screen (when no screen is given)
  out/shards/<shard>/         one shard: run.sqlite (+ .arrays), its LoadData CSV when the host has no --shard,
                done.json once the shard is finished
  out/run.sqlite              the merged store; the analyses' findings, plots/, report beside it

Every step is idempotent, so ``audit`` can be called again after anything died: a finished shard (done.json) is
skipped, a partial one is resumed (``resume=True``: its finished sites are kept), a merge is redone from the shard
stores, and the analyses resume on the merged store. A task whose worker dies is rerun elsewhere by the scheduler;
a task that raises (the host died with it) is retried ``retries`` times.

Two ways to hand a shard its plates, chosen by what the host answers:

- ``shard`` in ``audit/run`` (``confound audit --shard K/N``): plates sorted by name, dealt round-robin.
- A LoadData CSV per shard (the rows of its plates, image paths made absolute, the screen's
 ``barcode_platemap.csv`` and ``platemap/`` linked beside it): works with any host, the same plates per shard.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .host import Host, HostError
from .run import Run, _plain, audit_params

#: The stages that run per site (units keyed by site or well): these run on the workers.
PER_SITE_STAGES = ["focus", "segment", "embed"]
# audit/run's own defaults for a simulated screen (AuditRunner.simulationConfig), so a sharded audit of
# simulate={...} renders the same screen as confound.audit(simulate={...}).
_SIMULATE_DEFAULTS = {"seed": 1, "plates": 2, "wells": 96, "sites": 2, "channels": 3, "size": 256,
           "plant": "focus-gradient:0.7,density:0.6"}


@dataclass
class Shard:
  """One task: a name (its folder under ``out/shards``), its plates, and how the host is told them."""

  name: str
  plates: list[str]
  index: int  # 1-based K of "K/N"
  count: int  # N
  screen: str
  out: str
  design: dict = field(default_factory=dict)
  host: str | None = None

  @property
  def folder(self) -> Path:
    return Path(self.out) / "shards" / self.name


def plates_of(screen: str | os.PathLike) -> list[str]:
  """The plate names of a LoadData CSV (``Metadata_Plate``), sorted."""
  with open(screen, newline="") as file:
    reader = csv.DictReader(file)
    if "Metadata_Plate" not in (reader.fieldnames or []):
      raise ValueError(f"{screen}: no Metadata_Plate column, so the screen cannot be sharded by plate")
    return sorted({row["Metadata_Plate"] for row in reader})


def plan(screen: str | os.PathLike, out: str | os.PathLike, shards: int | None = None, design: dict | None = None,
     host: str | None = None) -> list[Shard]:
  """The shards of ``screen``: ``shards=None`` one per plate (named by the plate), else ``shards`` shards with the
  plates sorted by name and dealt round-robin (shard K of N gets plates K, K+N, ...; named ``K-of-N``)."""
  plates = plates_of(screen)
  count = len(plates) if shards is None else int(shards)
  if not 1 <= count <= len(plates):
    raise ValueError(f"shards must be 1 ... {len(plates)} (the screen's plates), got {count}")
  result = []
  for k in range(1, count + 1):
    mine = plates[k - 1::count]
    name = _plain(mine[0]) if shards is None else f"{k}-of-{count}"
    result.append(Shard(name=name, plates=mine, index=k, count=count, screen=str(Path(screen).resolve()),
              out=str(Path(out).resolve()), design=dict(design or {}), host=host))
  return result


def write_shard_screen(shard: Shard) -> Path:
  """The shard's own LoadData CSV: the screen's rows of its plates, relative image folders made absolute (they
  were relative to the screen's CSV), with the screen's barcode_platemap.csv and platemap/ linked beside it so
  the shard's sites get the same covariates. Written once (atomically); an existing one is kept."""
  folder = shard.folder
  folder.mkdir(parents=True, exist_ok=True)
  target = folder / "load_data.csv"
  if target.is_file():
    return target
  source = Path(shard.screen)
  with open(source, newline="") as file:
    reader = csv.DictReader(file)
    fields = list(reader.fieldnames or [])
    rows = [row for row in reader if row.get("Metadata_Plate") in set(shard.plates)]
  for row in rows:
    for name in fields:
      if name.startswith("PathName_"):
        base = row[name]
        row[name] = str((source.parent / base).resolve()) if base else str(source.parent.resolve())
  partial = folder / "load_data.csv.partial"
  with open(partial, "w", newline="") as file:
    writer = csv.DictWriter(file, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
  for beside in ("barcode_platemap.csv", "platemap"):
    link = folder / beside
    if (source.parent / beside).exists() and not link.exists():
      link.symlink_to((source.parent / beside).resolve())
  os.replace(partial, target)
  return target


def run_shard(shard: Shard) -> dict:
  """Runs the per-site stages of one shard (a Dask task; also usable alone). Skips a finished shard, resumes a
  partial one. Returns what the shard did: its plates, sites, seconds and how its plates were handed over."""
  done = shard.folder / "done.json"
  if done.is_file():
    summary = json.loads(done.read_text())
    summary["skipped"] = True
    return summary
  started = time.monotonic()
  cpu_before = _children_cpu()
  shard.folder.mkdir(parents=True, exist_ok=True)
  with Host(shard.host, progress=False) as host:
    summary = _run_stages(host, shard)
  summary.update(name=shard.name, plates=shard.plates, seconds=time.monotonic() - started,
          cpu_seconds=_children_cpu() - cpu_before, skipped=False)
  partial = shard.folder / "done.json.partial"
  partial.write_text(json.dumps(summary, indent=1))
  os.replace(partial, done)
  return summary


def _run_stages(host: Host, shard: Shard) -> dict:
  store = shard.folder / "run.sqlite"
  base = {k: v for k, v in shard.design.items() if k not in ("stages", "resume", "screen", "out")}
  # The host that knows shards: one request for the per-site stages of this shard of the whole screen.
  try:
    params = audit_params(shard.screen, shard.folder, **base, shard=f"{shard.index}/{shard.count}",
               stages=PER_SITE_STAGES, resume=store.exists())
    result = host.call("audit/run", **params)
    if _unit_plates(store) <= set(shard.plates):
      return {"mode": "shard", "sites": result.get("sites"), "stages": result.get("stages", [])}
    # A host that ignores `shard` (unknown params are ignored) did the sites of other plates too: this store
    # is not the shard's, so start it over the other way. (A sharded store registers every site of the screen;
    # its units are the shard's.)
    shutil.rmtree(shard.folder)
    shard.folder.mkdir(parents=True)
  except HostError as error:
    if (error.data or {}).get("field") not in ("stages", "shard"):
      raise
  # A host without shards or stage lists: the shard's own LoadData CSV, focus then segment (embed then runs on
  # the merged store with the analyses, resumed site by site).
  screen = write_shard_screen(shard)
  stages = []
  for stage in (["focus"], ["segment"]):
    params = audit_params(screen, shard.folder, **base, stages=stage, resume=store.exists())
    result = host.call("audit/run", **params)
    stages += result.get("stages", [])
  return {"mode": "loaddata", "sites": result.get("sites"), "stages": stages}


def simulate(out: str | os.PathLike, simulate: dict | None = None, host: str | None = None) -> Path:
  """Renders the screen that ``audit/run`` would simulate for ``simulate`` into ``out/screen`` (once) and returns
  its LoadData CSV."""
  folder = Path(out).resolve() / "screen"
  csv_file = folder / "load_data.csv"
  if csv_file.is_file():
    return csv_file
  options = {**_SIMULATE_DEFAULTS, **(simulate or {})}
  options.setdefault("batches", min(2, options["plates"]))
  size = options.pop("size")
  with Host(host, progress=False) as h:
    h.call("screen/simulate", out=str(folder), width=size, height=size, **options)
  return csv_file


def merge(out: str | os.PathLike, stores: list, host: str | None = None) -> dict:
  """``store/merge`` of ``stores`` into ``out/run.sqlite``; a merged store left by an earlier call is replaced
  (it is rebuilt from the shard stores, so nothing is lost)."""
  out = Path(out).resolve()
  for stale in (out / "run.sqlite", out / "run.sqlite-wal", out / "run.sqlite-shm"):
    stale.unlink(missing_ok=True)
  shutil.rmtree(out / "run.sqlite.arrays", ignore_errors=True)
  with Host(host, progress=False) as h:
    return h.call("store/merge", out=str(out), stores=[str(Path(s).resolve()) for s in stores])


def audit(screen: str | os.PathLike | None = None, out: str | os.PathLike | None = None, client=None,
     shard_by: str = "plate", shards: int | None = None, retries: int = 3, host: str | None = None,
     progress=None, **design) -> Run:
  """Audits ``screen`` on a Dask cluster into ``out`` and returns the merged :class:`Run`.

  ``client``: a ``dask.distributed.Client`` (None: the current one). ``shard_by="plate"`` (the only choice: a
  plate's sites stay together, so per-plate work matches a one-machine run); ``shards``: how many shards (None:
  one per plate). ``design``: the other ``audit/run`` params (``simulate``, ``focus_measure``, ...). ``host``:
  the confound-host each task starts (None: found as :func:`confound.find_host` finds it on that worker).
  The result equals the store of ``confound.audit(screen, out=...)`` on one machine (see Protocol/README.md,
  ``store/merge``)."""
  if shard_by != "plate":
    raise ValueError(f"shard_by must be 'plate', got {shard_by!r}")
  if out is None:
    raise TypeError("audit() needs out=: the folder that receives the merged run.sqlite")
  out = Path(out).resolve()
  out.mkdir(parents=True, exist_ok=True)
  host = None if host is None else str(host)
  if screen is None:
    screen = simulate(out, design.pop("simulate", None), host=host)
  else:
    design.pop("simulate", None)
  if client is None:
    from dask.distributed import get_client

    client = get_client()
  design.pop("resume", None)
  tasks = plan(screen, out, shards=shards, design=design, host=host)
  futures = client.map(run_shard, tasks, key=[f"confound-shard-{out}-{t.name}" for t in tasks],
             retries=retries, pure=False)
  summaries = client.gather(futures)
  merged = merge(out, [t.folder for t in tasks], host=host)
  (out / "shards.json").write_text(json.dumps({"shards": summaries, "merge": merged,
                         "plan": [asdict(t) for t in tasks]}, indent=1))
  # The whole-screen analyses, once, on the merged store: every per-site unit there is done, so only the
  # stages the shards did not run (embed, with a host without stage lists) and the analyses compute.
  params = audit_params(screen, out, **design, resume=True)
  with Host(host) as h:
    result = h.call("audit/run", progress=progress, **params)
  return Run(out, result={**result, "shards": summaries, "merge": merged})


def _unit_plates(store: Path) -> set:
  """The plates of the units a store holds (unit keys are plate/well/site or plate/well)."""
  with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
    return {row[0] for row in db.execute("SELECT DISTINCT substr(key, 1, instr(key, '/') - 1) FROM units")}


def _children_cpu() -> float:
  usage = os.times()
  return usage.children_user + usage.children_system

