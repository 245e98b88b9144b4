"""A run folder (``run.sqlite`` and what the audit wrote beside it) read into pandas and numpy.

The store's schema is ConfoundCore's ``RunStore``: ``run``, ``plugins``, ``inputs``, ``sites`` (plate, well, site,
covariates as JSON), ``units``, ``measurements`` (long: site_id, name, value), ``objects``, ``arrays`` (files beside
the store) and ``findings``. Columns are read by name and tables that a store does not have yet (older or newer
schemas) read as empty, so a Run opens stores of other versions.
"""

from __future__ import annotations

import html
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .host import Cancelled, Host

_KEYS = ["plate", "well", "site"]


class Run:
  """One audit's results: ``Run(DIR)`` for a folder holding ``run.sqlite`` (see :func:`open_run`)."""

  def __init__(self, directory: str | os.PathLike, result: dict | None = None, cancelled: bool = False):
    self.dir = Path(directory).resolve()
    self.store = self.dir / "run.sqlite"
    if not self.store.is_file():
      raise FileNotFoundError(f"{self.store}: no run store here (run confound.audit(out=...) first)")
    #: The ``audit/run`` response when this Run came from :func:`audit` (stages, findings, summary).
    self.result = result
    #: True when the audit was cancelled (Ctrl-C): what finished is kept, ``resume=True`` continues.
    self.cancelled = cancelled

  def __repr__(self) -> str:
    return f"Run({str(self.dir)!r})"

  # MARK: reading the store

  def connect(self) -> sqlite3.Connection:
    """A read-only connection to the store (the audit may still be writing it: WAL lets both proceed)."""
    return sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)

  def sql(self, query: str, params=()) -> pd.DataFrame:
    """Any query on the store, as a DataFrame."""
    with self.connect() as db:
      return pd.read_sql_query(query, db, params=params)

  def tables(self) -> list[str]:
    with self.connect() as db:
      return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

  def _table(self, name: str, order: str | None = None) -> pd.DataFrame:
    if name not in self.tables():
      return pd.DataFrame()
    return self.sql(f'SELECT * FROM "{name}"' + (f" ORDER BY {order}" if order else ""))

  @property
  def parameters(self) -> dict:
    """The parameters the audit was run with (``run.parameters``)."""
    frame = self._table("run")
    return json.loads(frame["parameters"].iloc[0]) if len(frame) else {}

  @property
  def findings(self) -> pd.DataFrame:
    """One row per finding, every column of the store's ``findings`` table (``plates`` as a list); from
    ``findings.json`` when the store holds none (stores written before findings were stored)."""
    frame = self._table("findings", order="id")
    if len(frame):
      if "plates" in frame:
        frame["plates"] = frame["plates"].map(_json_list)
      return frame
    file = self.dir / "findings.json"
    if file.is_file():
      frame = pd.DataFrame(json.loads(file.read_text()))
      return frame.rename(columns={"ciLow": "ci_low", "ciHigh": "ci_high", "pValue": "p_value"})
    return frame

  @property
  def sites(self) -> pd.DataFrame:
    """One row per site: ``site_id``, plate, well, site, then every covariate as a column."""
    frame = self._table("sites", order="plate, well, site")
    if frame.empty:
      return pd.DataFrame(columns=["site_id"] + _KEYS)
    covariates = pd.DataFrame([json.loads(c) for c in frame["covariates"]], index=frame.index)
    covariates = covariates[[c for c in covariates.columns if c not in _KEYS + ["site_id"]]]
    frame = frame.drop(columns=["covariates"]).rename(columns={"id": "site_id"})
    return pd.concat([frame, covariates], axis=1)

  def measurements(self, level: str = "site", aggregate: str = "median") -> pd.DataFrame:
    """Wide: one row per site (``level="site"``) or well (``"well"``), one column per measurement, after the
    plate, well, (site,) and covariate columns. A well's value is the ``aggregate`` ("median" or "mean") of
    its sites' values, missing ones left out (as ``confound export --level well``); a well's covariate is kept
    where all its sites agree on it."""
    sites = self.sites
    long = self._table("measurements")
    if long.empty:
      wide = pd.DataFrame(index=sites["site_id"])
    else:
      wide = long.pivot(index="site_id", columns="name", values="value")
      wide = wide[sorted(wide.columns)]
    wide.columns.name = None
    frame = sites.merge(wide, left_on="site_id", right_index=True, how="left")
    if level == "site":
      return frame.reset_index(drop=True)
    if level != "well":
      raise ValueError(f"level must be 'site' or 'well', got {level!r}")
    if aggregate not in ("median", "mean"):
      raise ValueError(f"aggregate must be 'median' or 'mean', got {aggregate!r}")
    covariates = [c for c in sites.columns if c not in ["site_id"] + _KEYS]
    features = list(wide.columns)
    groups = frame.groupby(["plate", "well"], sort=True)
    shared = groups[covariates].agg(lambda c: c.iloc[0] if c.nunique(dropna=False) == 1 else np.nan)
    values = groups[features].agg(aggregate) if features else pd.DataFrame(index=shared.index)
    counts = groups.size().rename("sites")
    return pd.concat([counts, shared, values], axis=1).reset_index()

  @property
  def wells(self) -> pd.DataFrame:
    """One row per well: plate, well, its number of sites, covariates, and every measurement as the median
    over its sites (``measurements(level="well")``)."""
    return self.measurements(level="well")

  def objects(self) -> pd.DataFrame:
    """Wide: one row per segmented object (plate, well, site, object), one column per object measurement."""
    long = self.sql(
      "SELECT s.plate, s.well, s.site, o.object, o.name, o.value FROM objects o JOIN sites s ON s.id = o.site_id"
    ) if "objects" in self.tables() else pd.DataFrame()
    if long.empty:
      return pd.DataFrame(columns=_KEYS + ["object"])
    wide = long.pivot_table(index=_KEYS + ["object"], columns="name", values="value", aggfunc="first")
    wide.columns.name = None
    return wide.reset_index()

  @property
  def units(self) -> pd.DataFrame:
    """Every unit of work: stage, key, status (done, failed), when, and the failure message."""
    return self._table("units", order="stage, key")

  @property
  def stages(self) -> pd.DataFrame:
    """The store's ``stages`` table when it has one, else the units counted by stage and status."""
    frame = self._table("stages")
    if len(frame):
      return frame
    units = self.units
    if units.empty:
      return pd.DataFrame(columns=["stage", "done", "failed"])
    counts = units.groupby(["stage", "status"]).size().unstack(fill_value=0)
    counts.columns.name = None
    return counts.reset_index()

  # MARK: arrays

  @property
  def arrays(self) -> pd.DataFrame:
    """The stored arrays: name, path (relative to the run folder), shape (a list), dtype."""
    frame = self._table("arrays", order="name")
    if "shape" in frame:
      frame["shape"] = frame["shape"].map(_json_list)
    return frame

  def array_path(self, name: str) -> Path | None:
    frame = self.sql("SELECT path FROM arrays WHERE name = ?", (name,)) if "arrays" in self.tables() else None
    return None if frame is None or frame.empty else self.dir / frame["path"].iloc[0]

  def array(self, name: str) -> np.ndarray:
    """A stored ``.npy`` array by name (``crops_<plate>_<well>_s<site>``, ``embeddings_site_...``)."""
    path = self.array_path(name)
    if path is None:
      raise KeyError(f"{self.store}: no array named {name!r} (see Run.arrays)")
    return np.load(path)

  def embeddings(self, level: str = "site", random: bool = False, frame: bool = False):
    """Stored embeddings: ``level="site"`` (each site's mean cell vector), ``"well"`` (each well's mean) or
    ``"cell"`` (every embedded cell); ``random=True`` for the random-weights baseline. A float32 array [rows, D],
    rows in plate, well, site (, cell) order over what was embedded; ``frame=True`` gives a DataFrame with
    those key columns and one column per dimension (``e0``, ``e1``, ...) instead."""
    prefix = "random_embeddings" if random else "embeddings"
    stored = set(self.arrays.get("name", pd.Series(dtype=str)))
    keys, blocks = [], []
    if level == "well":
      wells = self.sites[["plate", "well"]].drop_duplicates()
      items = [((p, w), f"{prefix}_well_{_plain(p)}_{_plain(w)}") for p, w in wells.itertuples(index=False)]
      columns = ["plate", "well"]
    elif level in ("site", "cell"):
      tag = "_site" if level == "site" else ""
      items = [((p, w, s), f"{prefix}{tag}_{_plain(p)}_{_plain(w)}_s{s}")
           for p, w, s in self.sites[_KEYS].itertuples(index=False)]
      columns = list(_KEYS)
    else:
      raise ValueError(f"level must be 'site', 'well' or 'cell', got {level!r}")
    for key, name in items:
      if name in stored:
        block = self.array(name)
        blocks.append(block.reshape(len(block), -1) if block.ndim else block.reshape(1, -1))
        keys += [key + ((i,) if level == "cell" else ()) for i in range(len(blocks[-1]))]
    matrix = np.concatenate(blocks).astype(np.float32, copy=False) if blocks else np.zeros((0, 0), np.float32)
    if not frame:
      return matrix
    if level == "cell":
      columns = columns + ["cell"]
    index = pd.DataFrame(keys, columns=columns)
    values = pd.DataFrame(matrix, columns=[f"e{i}" for i in range(matrix.shape[1])])
    return pd.concat([index, values], axis=1)

  def mask(self, plate: str, well: str, site: int) -> np.ndarray:
    """A site's nucleus label mask (0 background, 1..n objects), stored as TIFF; needs ``tifffile``."""
    name = f"labels_{_plain(plate)}_{_plain(well)}_s{site}"
    path = self.array_path(name)
    if path is None:
      raise KeyError(f"{self.store}: no mask for {plate}/{well}/{site} (was the segment stage run?)")
    try:
      import tifffile
    except ImportError as error:  # pragma: no cover - depends on the environment
      raise ImportError("reading masks needs tifffile: pip install 'confound[masks]'") from error
    return tifffile.imread(path)

  # MARK: figures and report

  @property
  def figures(self) -> dict[str, Path]:
    """The figures the audit drew (``plots/*.png``, and the PNGs its ``artifacts`` table lists), by file stem."""
    plots = self.dir / "plots"
    found = {p.stem: p for p in sorted(plots.glob("*.png"))} if plots.is_dir() else {}
    artifacts = self._table("artifacts")
    for path in artifacts.get("path", []):
      file = self.dir / path
      if file.suffix == ".png" and file.is_file():
        found.setdefault(file.stem, file)
    return found

  @property
  def report(self) -> Path | None:
    """``report.html`` of the run, when the audit wrote one."""
    path = self.dir / "report.html"
    return path if path.is_file() else None

  def _repr_html_(self) -> str:
    if self.report is not None:
      # The report is a whole document with its own styles: framed, so it cannot restyle the notebook.
      return (f'<iframe srcdoc="{html.escape(self.report.read_text(), quote=True)}" '
          'style="width:100%;height:700px;border:0"></iframe>')
    findings = self.findings
    columns = [c for c in ["kind", "covariate", "measure", "effect", "p_value", "verdict"] if c in findings]
    table = findings[columns].to_html(index=False) if len(findings) else "<p>No findings.</p>"
    state = " (cancelled: resume=True continues it)" if self.cancelled else ""
    return f"<h3>Confound run {html.escape(str(self.dir))}{state}</h3>{table}"


def open_run(directory: str | os.PathLike) -> Run:
  """The run in ``directory`` (a folder holding ``run.sqlite``, or the file itself)."""
  path = Path(directory)
  return Run(path.parent if path.name == "run.sqlite" else path)


def audit_params(screen=None, out=None, **design) -> dict:
  """``audit/run`` params from Python arguments: paths made absolute, ``snake_case`` names as the protocol's
  ``camelCase`` (``focus_measure`` -> ``focusMeasure``)."""
  if out is None:
    raise TypeError("audit() needs out=: the folder that receives run.sqlite")
  params: dict[str, Any] = {"out": str(Path(out).resolve())}
  if screen is not None:
    params["screen"] = str(Path(screen).resolve())
  for name, value in design.items():
    if value is not None:
      params[_camel(name)] = value
  return params


def audit(screen: str | os.PathLike | None = None, out: str | os.PathLike | None = None, host: Host | None = None,
     progress=None, **design) -> Run:
  """Audits ``screen`` (a LoadData CSV; None: a simulated screen, shaped by ``simulate={...}``) into ``out`` and
  returns its :class:`Run`. ``design`` holds the other ``audit/run`` params (``resume``, ``simulate``,
  ``focus_measure``, ``stages``, ...). ``host``: a running :class:`Host` to use (else one is started and shut
  down). Ctrl-C cancels the audit; the Run of what finished comes back with ``cancelled=True``."""
  params = audit_params(screen, out, **design)
  own = host is None
  host = Host() if own else host
  try:
    try:
      result = host.call("audit/run", progress=progress, **params)
    except Cancelled:
      print(f"audit cancelled: what finished is kept in {params['out']}; audit(..., resume=True) continues it")
      return Run(params["out"], cancelled=True)
    return Run(params["out"], result=result)
  finally:
    if own:
      host.close()


def _json_list(text):
  try:
    return json.loads(text) if isinstance(text, str) else text
  except ValueError:
    return text


def _plain(name) -> str:
  """An array-name part as the audit writes it: every character outside [A-Za-z0-9_-] becomes ``_``."""
  return "".join(c if c.isalnum() or c in "_-" else "_" for c in str(name))


def _camel(name: str) -> str:
  head, *rest = name.split("_")
  return head + "".join(part[:1].upper() + part[1:] for part in rest)
