"""How confound.distributed splits a screen, without a host: plates sorted by name and dealt round-robin (as
`confound audit --shard K/N` deals them), and a shard's own LoadData CSV holding exactly its plates' rows with
image folders that still resolve."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from confound import distributed


def loaddata(folder: Path, plates: list[str]) -> Path:
  (folder / "images").mkdir(parents=True)
  (folder / "barcode_platemap.csv").write_text("Assay_Plate_Barcode,Plate_Map_Name\n")
  file = folder / "load_data.csv"
  with open(file, "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["Metadata_Plate", "Metadata_Well", "Metadata_Site", "FileName_DNA", "PathName_DNA"])
    for plate in plates:
      for well in ("A01", "A02"):
        writer.writerow([plate, well, 1, f"{plate}_{well}.tif", "images"])
  return file


def test_plates_are_sorted_and_dealt_round_robin(tmp_path):
  screen = loaddata(tmp_path / "screen", ["P5", "P1", "P4", "P2", "P3"])
  shards = distributed.plan(screen, tmp_path / "out", shards=2)
  assert [(s.name, s.plates, f"{s.index}/{s.count}") for s in shards] == [
    ("1-of-2", ["P1", "P3", "P5"], "1/2"), ("2-of-2", ["P2", "P4"], "2/2")]
  per_plate = distributed.plan(screen, tmp_path / "out")
  assert [(s.name, s.plates, s.index, s.count) for s in per_plate][:2] == [("P1", ["P1"], 1, 5), ("P2", ["P2"], 2, 5)]
  with pytest.raises(ValueError, match="shards must be 1 ... 5"):
    distributed.plan(screen, tmp_path / "out", shards=6)


def test_a_shard_screen_holds_its_plates_with_absolute_image_folders(tmp_path):
  screen = loaddata(tmp_path / "screen", ["P1", "P2", "P3"])
  shard = distributed.plan(screen, tmp_path / "out", shards=2)[0]
  written = distributed.write_shard_screen(shard)
  with open(written, newline="") as file:
    rows = list(csv.DictReader(file))
  assert sorted({r["Metadata_Plate"] for r in rows}) == ["P1", "P3"] and len(rows) == 4
  assert all(Path(r["PathName_DNA"]) == (tmp_path / "screen" / "images").resolve() for r in rows)
  assert (written.parent / "barcode_platemap.csv").resolve() == (tmp_path / "screen" / "barcode_platemap.csv").resolve()
  # Written once: a second call keeps the file (a rerun task sees the same shard).
  before = written.stat().st_mtime_ns
  assert distributed.write_shard_screen(shard) == written and written.stat().st_mtime_ns == before
