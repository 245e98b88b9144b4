"""confound.Host against the real confound-host: plugins, a call checked by value, errors as exceptions with code,
message and data, Ctrl-C as $/cancelRequest (by a real SIGINT and by KeyboardInterrupt in a progress callback),
and the Run's DataFrames checked against the store read with sqlite3."""

from __future__ import annotations

import json
import os
import signal
import sqlite3

import numpy as np
import pytest

import confound
from conftest import SCREEN


def test_plugins_and_methods(bin_dir):
  with confound.Host(bin_dir) as host:
    ids = {p["manifest"]["id"]: p for p in host.plugins()}
    kinds = {p["manifest"]["kind"] for p in ids.values()}
    assert "confound.focus" in ids and ids["confound.focus"]["isDefault"]
    assert {"focus", "segmenter", "probe"} <= kinds
    assert {"audit/run", "store/merge", "plugins/list"} <= set(host.methods)
    assert host.info["serverInfo"]["name"] == "confound-host"
  # Shut down on exit: the process is gone with status 0 (shutdown came before exit).
  assert host._process.poll() == 0


def test_a_call_checked_by_value(bin_dir, tmp_path):
  # Columns alternating 1 and 3: mean 2, population variance 1, so CellProfiler's FocusScore = var / mean = 0.5.
  image = np.tile(np.array([1, 3], np.float32), (16, 8))
  np.save(tmp_path / "stripes.npy", image[None])
  with confound.Host(bin_dir, progress=False) as host:
    inputs = [{"name": "image", "npy": str(tmp_path / "stripes.npy")}]
    result = host.call("plugins/run", plugin="confound.focus", inputs=inputs, context={"channels": ["DNA"]})
  measures = result["result"]["channels"][0]["measures"]
  assert measures["ImageQuality_FocusScore"] == pytest.approx(image.var() / image.mean(), abs=1e-12)
  assert measures["ImageQuality_FocusScore"] == pytest.approx(0.5)
  assert measures["ImageQuality_PercentMaximal"] == pytest.approx(50)


def test_errors_are_exceptions_with_code_message_and_data(bin_dir, tmp_path):
  with confound.Host(bin_dir, progress=False) as host:
    with pytest.raises(confound.HostError) as bad:
      host.call("plugins/run", plugin="confound.focus", parameters={"scale": 0}, inputs=[])
    assert bad.value.code == -32602
    assert "below its minimum 1" in bad.value.message
    assert bad.value.data == {"field": "parameters.scale", "plugin": "confound.focus"}
    with pytest.raises(confound.HostError) as unknown:
      host.call("no/such")
    assert (unknown.value.code, unknown.value.data) == (-32601, {"method": "no/such"})
    with pytest.raises(confound.HostError) as missing:
      host.call("store/merge", out=str(tmp_path / "m"), stores=[str(tmp_path / "nowhere")])
    assert missing.value.code == 1004 and missing.value.data["file"].endswith("nowhere/run.sqlite")
    # The host is still there after its errors.
    assert host.plugins()


@pytest.mark.parametrize("how", ["progress callback", "SIGINT"])
def test_ctrl_c_cancels_the_audit_and_resume_finishes_it(bin_dir, tmp_path, how):
  reports = []

  def interrupt(value):
    if value.get("kind") == "report" and "sites" in (value.get("message") or ""):
      reports.append(value)
      if len(reports) == 1:
        if how == "SIGINT":
          os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered to this process's main thread
        else:
          raise KeyboardInterrupt

  out = tmp_path / "run"
  simulate = {**SCREEN, "plates": 1, "batches": 1, "size": 256}  # focus takes seconds: time to cancel
  with confound.Host(bin_dir) as host:
    run = confound.audit(out=out, host=host, progress=interrupt, simulate=simulate, stages=["focus"])
    assert run.cancelled
    with sqlite3.connect(run.store) as db:
      sites = db.execute("SELECT count(*) FROM sites").fetchone()[0]
      done = db.execute("SELECT count(*) FROM units WHERE stage = 'focus' AND status = 'done'").fetchone()[0]
    assert sites == 96 and done < sites
    # The same host goes on, and resume finishes what the cancel left.
    assert host.plugins()
    finished = confound.audit(out=out, host=host, progress=False, simulate=simulate, stages=["focus"], resume=True)
  assert not finished.cancelled
  stage = {s["name"]: s for s in finished.result["stages"]}["focus"]
  assert stage["resumed"] == done and stage["computed"] == sites - done


def test_run_tables_equal_the_store(single_run):
  run = confound.open_run(single_run.dir / "run.sqlite")
  db = sqlite3.connect(run.store)
  rows = db.execute("SELECT id, plate, well, site, covariates FROM sites ORDER BY plate, well, site").fetchall()
  sites = run.sites
  assert list(sites["site_id"]) == [r[0] for r in rows]
  first = json.loads(rows[0][4])
  assert first and all(sites.loc[0, k] == v for k, v in first.items() if k not in ("plate", "well", "site"))

  wide = run.measurements(level="site")
  long = db.execute(
    "SELECT s.plate, s.well, s.site, m.name, m.value FROM measurements m JOIN sites s ON s.id = m.site_id")
  by_site = wide.set_index(["plate", "well", "site"])
  count = 0
  for plate, well, site, name, value in long:
    cell = by_site.at[(plate, well, site), name]
    assert (value is None and np.isnan(cell)) or cell == value, (plate, well, site, name)
    count += 1
  assert count == wide.drop(columns=sites.columns).notna().sum().sum()

  # A well's value is the median of its sites' values (one site per well here: equal to it).
  wells = run.wells
  assert len(wells) == len({(r[1], r[2]) for r in rows})
  name = "Count_Nuclei" if "Count_Nuclei" in wells else wells.columns[-1]
  expected = db.execute(
    f"SELECT s.plate, s.well, m.value FROM measurements m JOIN sites s ON s.id = m.site_id WHERE m.name = ?", (name,))
  for plate, well, value in expected:
    got = wells[(wells.plate == plate) & (wells.well == well)][name].iloc[0]
    assert got == value

  stored = db.execute("SELECT kind, measure, verdict FROM findings ORDER BY id").fetchall()
  if not stored:  # findings in findings.json only (stores before findings were stored)
    stored = [(f["kind"], f["measure"], f["verdict"]) for f in json.loads((run.dir / "findings.json").read_text())]
  assert list(zip(run.findings["kind"], run.findings["measure"], run.findings["verdict"])) == stored
  # Every audit writes report.html, which the notebook shows framed; a verdict with nothing to escape reads as is.
  shown = run._repr_html_()
  assert (run.dir / "report.html").is_file() and shown.startswith("<iframe srcdoc=")
  plain = [v for _, _, v in stored if not set(v) & set("&<>\"'")]
  assert stored and plain and plain[0] in shown

  arrays = dict(db.execute("SELECT name, path FROM arrays"))
  crops = sorted(n for n in arrays if n.startswith("crops_"))
  assert crops and np.array_equal(run.array(crops[0]), np.load(run.dir / arrays[crops[0]]))
  wells_embedded = sorted(n for n in arrays if n.startswith("embeddings_well_"))
  matrix = run.embeddings(level="well")
  assert matrix.shape[0] == len(wells_embedded)
  if wells_embedded:  # the embedder model is present (.ci/setup-models)
    frame = run.embeddings(level="well", frame=True)
    plate, well = frame.loc[0, "plate"], frame.loc[0, "well"]
    stored = np.load(run.dir / arrays[f"embeddings_well_{plate}_{well}"])[0]
    assert np.array_equal(frame.iloc[0, 2:].to_numpy(np.float32), stored)

  tifffile = pytest.importorskip("tifffile")
  objects = run.objects()
  plate, well, site = objects.loc[0, ["plate", "well", "site"]]
  mask = run.mask(plate, well, int(site))
  assert mask.max() == len(objects[(objects.plate == plate) & (objects.well == well) & (objects.site == site)])
  assert tifffile is not None
  assert all(path.is_file() for path in run.figures.values()) and run.figures
