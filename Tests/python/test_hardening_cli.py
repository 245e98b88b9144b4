"""Issue 18 through the `confound` CLI: the cases test_hardening.py shows on a raw host, seen as a user sees them
(exit status and message). Each test runs a few short CLI invocations; every one has a deadline."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, WAIT, build_plugin, host_environment

sys.path.insert(0, str(REPO / "Tests/Benchmarks"))
from bench_limits_memory import shared_strip_tiff  # noqa: E402


@pytest.fixture(scope="session")
def hang_dir(tmp_path_factory) -> Path:
  folder = tmp_path_factory.mktemp("hang-cli")
  build_plugin(REPO / "Tests/Plugins/CBroken/broken_plugin.c", folder / "hang_on_load.so", "HANG_ON_LOAD")
  return folder


def confound(bin_dir: Path, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
  started = time.monotonic()
  done = subprocess.run([str(bin_dir / "confound"), *args], capture_output=True, text=True, timeout=timeout,
                        env=host_environment())
  return done, time.monotonic() - started


def run_misbehave(bin_dir, plugin_dir, inputs, *options: str, **parameters) -> tuple[subprocess.CompletedProcess, float]:
  params = {"plugin": "test.misbehave", "parameters": parameters, "inputs": inputs}
  timeout = parameters.pop("timeoutSeconds", None)
  if timeout is not None:
    params["timeoutSeconds"] = timeout
  return confound(bin_dir, "call", "plugins/run", "--params", json.dumps(params), "--plugin-dir", str(plugin_dir),
                  *options)


def error_of(done: subprocess.CompletedProcess) -> tuple[int, str, dict]:
  """The code, message and data of the error `confound call` printed ("error CODE: MESSAGE DATA")."""
  assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
  found = [m for m in map(re.compile(r"(?:^|Error: )error (-?\d+): (.*)$").search, done.stderr.splitlines()) if m]
  assert found, done.stderr
  code, rest = found[-1].groups()
  brace = rest.rfind(" {")
  data = json.loads(rest[brace + 1:]) if brace >= 0 else {}
  return int(code), rest[:brace] if brace >= 0 else rest, data


@pytest.fixture
def image(tmp_path) -> list[dict]:
  npy = tmp_path / "i.npy"
  np.save(npy, np.full((1, 4, 4), 7.5, np.float32))
  return [{"name": "image", "npy": str(npy)}]


def test_plugin_timeout_answers_a_hanging_call(bin_dir, plugin_dir, image):
  done, seconds = run_misbehave(bin_dir, plugin_dir, image, "--plugin-timeout", "1", mode="hang")
  code, message, data = error_of(done)
  assert code == 1002 and "plugin test.misbehave did not answer within 1 s" in message, done.stderr
  assert data["plugin"] == "test.misbehave" and data["timeoutSeconds"] == 1
  assert seconds < 15
  for flag in ("--plugin-timeout", "--plugin-load-timeout"):
    for bad in ("0", "-2", "nan"):
      refused, _ = confound(bin_dir, "plugins", "list", f"{flag}={bad}")
      assert refused.returncode != 0 and f"{flag} takes a positive number of seconds" in refused.stderr, refused.stderr


def test_plugin_load_timeout_bounds_a_plugin_that_never_loads(bin_dir, hang_dir):
  done, seconds = confound(bin_dir, "plugins", "list", "--plugin-dir", str(hang_dir), "--plugin-load-timeout", "1")
  assert done.returncode == 0, done.stderr
  assert "did not finish loading within 1 s" in done.stdout and "crashed" not in done.stdout, done.stdout
  assert "confound.focus" in done.stdout
  assert seconds < 10


def test_misbehaving_plugins_are_named(bin_dir, plugin_dir, image):
  cases = [("fork-crash", 1002, "plugin test.misbehave crashed (signal 11"),
           ("garbage", 1002, "worker channel of plugin test.misbehave carried"),
           ("close-channel", 1002, "plugin test.misbehave closed or replaced the worker's channel"),
           ("null", 1003, "plugin test.misbehave broke the focus contract")]
  for mode, expected, text in cases:
    done, seconds = run_misbehave(bin_dir, plugin_dir, image, mode=mode)
    code, message, _ = error_of(done)
    assert code == expected and text in message, (mode, done.stderr)
    assert seconds < 15, mode
  done, _ = run_misbehave(bin_dir, plugin_dir, image, mode="ok", timeoutSeconds=0)
  code, _, data = error_of(done)
  assert code == -32602 and data["field"] == "timeoutSeconds"


def png(path: Path, width: int, height: int) -> Path:
  """An 8-bit grey PNG of zeros, written with zlib (no imaging library between the test and the file)."""
  def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
  rows = b"".join(b"\0" + bytes(width) for _ in range(height))
  path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
  return path


def test_bad_inputs_are_named_as_the_inputs_fault(bin_dir, plugin_dir, tmp_path):
  overflow = tmp_path / "overflow.npy"
  header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"
  header = header.ljust(128 - 10 - 1) + "\n"
  overflow.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
  fifo = tmp_path / "site.tif"
  os.mkfifo(fifo)
  big = png(tmp_path / "big.png", 40, 30)
  # 100 pages of 16 x 16 under 6 kB, every page the same strip: 25,600 samples, decoded size counted over all pages.
  pages = shared_strip_tiff(tmp_path / "pages.tif", 100, 16)
  cases = [({"name": "image", "npy": str(overflow)}, "more elements than can be counted", ()),
           ({"name": "image", "files": [str(fifo)]}, "a FIFO (named pipe)", ()),
           ({"name": "image", "files": [str(big)]}, "over the limit of 1000", ("--max-image-pixels", "1000")),
           ({"name": "image", "files": [str(pages)]}, "over the limit of 20000", ("--max-image-pixels", "20000"))]
  for ref, text, options in cases:
    done, seconds = run_misbehave(bin_dir, plugin_dir, [ref], *options, mode="ok")
    code, message, data = error_of(done)
    file = ref.get("npy") or ref["files"][0]
    assert code == 1004 and data["file"] == file and text in message, done.stderr
    assert message.startswith(f"input image: {file}") and "the plugin was not called" in message, message
    assert "plugin test.misbehave" not in message
    assert seconds < 15
  done, _ = run_misbehave(bin_dir, plugin_dir, [{"name": "image", "files": [str(big)]}], "--max-image-pixels", "1200",
                          mode="ok")
  assert done.returncode == 0, done.stderr


def test_a_long_method_name_is_quoted_short(bin_dir):
  done, _ = confound(bin_dir, "call", "m" * 100_000)
  code, message, _ = error_of(done)
  assert code == -32601 and "(100000 bytes)" in message
  assert len(done.stderr) < 1000, len(done.stderr)


def test_a_plugins_forked_child_ends_before_confound_returns(bin_dir, plugin_dir, image):
  scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.environ.get("TMPDIR", "/tmp"))
  before = set(scratch.glob("confound-*"))
  done, _ = run_misbehave(bin_dir, plugin_dir, image, mode="fork-orphan")
  assert done.returncode == 0, done.stderr
  # The call (no outputDir) made its host's scratch folder; the host removed it on the way out.
  assert set(scratch.glob("confound-*")) - before == set(), "a scratch folder outlived confound's host"
  child = json.loads(done.stdout)["result"]["child"]
  stat = Path(f"/proc/{child}/stat")
  assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].strip().startswith("Z"), \
    "the plugin's child outlived confound"


def test_audit_resume_and_stores_through_the_cli(bin_dir, tmp_path):
  """A resume redoes units whose measurements are gone; an empty store is said to start anew; a damaged store is
  named with what to do; an audit in which every site fails exits non-zero naming the input."""
  import shutil
  import sqlite3
  done, _ = confound(bin_dir, "simulate", "--out", str(tmp_path / "screen"), "--seed", "3", "--plates", "1",
                     "--batches", "1", "--sites", "1", "--channels", "1", "--width", "64", "--height", "64",
                     "--lines-per-class", "2")
  assert done.returncode == 0, done.stderr
  screen, run = tmp_path / "screen", tmp_path / "run"
  # Progress names every stage, and its percentage never goes back.
  done, _ = confound(bin_dir, "audit", str(screen), "--out", str(tmp_path / "all"), "--stages",
                     "focus,segment,spatial,density")
  assert done.returncode == 0, done.stderr
  shown = [m.groups() for m in map(re.compile(r"^audit: (\d+)% (\w+)").match, done.stderr.splitlines()) if m]
  assert {name for _, name in shown} == {"focus", "segment", "spatial", "density"}, shown
  percents = [int(p) for p, _ in shown]
  assert percents == sorted(percents), shown
  done, _ = confound(bin_dir, "audit", str(screen), "--out", str(run), "--stages", "focus")
  assert done.returncode == 0, done.stderr
  store = sqlite3.connect(run / "run.sqlite")
  stored = store.execute("SELECT COUNT(*) FROM measurements").fetchone()[0]
  assert stored > 0
  store.execute("DELETE FROM measurements")
  store.commit()
  store.close()
  done, _ = confound(bin_dir, "audit", str(screen), "--out", str(run), "--stages", "focus", "--resume")
  assert done.returncode == 0, done.stderr
  assert "96 units marked done" in done.stderr and "have no stored results" in done.stderr, done.stderr
  store = sqlite3.connect(run / "run.sqlite")
  assert store.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == stored, "the units were not redone"
  store.close()

  empty = tmp_path / "empty"
  empty.mkdir()
  (empty / "run.sqlite").write_bytes(b"")
  done, _ = confound(bin_dir, "audit", str(screen), "--out", str(empty), "--stages", "design", "--resume")
  assert done.returncode == 0 and "held no run (an empty store): the audit started anew" in done.stdout + done.stderr

  damaged = tmp_path / "damaged"
  damaged.mkdir()
  (damaged / "run.sqlite").write_bytes(bytes(range(256)) * 20)
  done, _ = confound(bin_dir, "audit", str(screen), "--out", str(damaged), "--resume")
  code, message, data = error_of(done)
  assert code == 1004 and data["file"] == str(damaged / "run.sqlite"), done.stderr
  assert "the store is damaged" in message and "--out DIR" in message, message

  bare = tmp_path / "bare"
  shutil.copytree(screen, bare)
  shutil.rmtree(bare / "images")
  done, _ = confound(bin_dir, "audit", str(bare), "--out", str(tmp_path / "none"), "--stages", "focus,spatial")
  code, message, data = error_of(done)
  assert code == 1004 and message.startswith("nothing to analyse: no site of 96 has a result"), message
  assert data["file"] == str(bare / "load_data.csv")
  assert "No finding reached significance" not in done.stdout


def test_one_ctrl_c_while_a_huge_loaddata_csv_is_read_ends_the_audit(bin_dir, tmp_path):
  """Ctrl-C (SIGINT to the terminal's process group: confound and its host) while the LoadData CSV is still being
  read ends the audit at once with status 130; it had been ignored until a second Ctrl-C. The store is made only
  after the screen is read, so its absence shows the read itself was cancelled."""
  csv = tmp_path / "load_data.csv"
  with csv.open("w") as f:
    f.write("Metadata_Plate,Metadata_Well,Metadata_Site,FileName_DNA,PathName_DNA\n")
    for i in range(300_000):
      f.write(f"P{i // 3456},{chr(65 + (i // 36) % 8)}{(i // 3) % 12 + 1:02d},{i % 3},img{i}.tif,/data\n")
  out = tmp_path / "run"
  audit = subprocess.Popen([str(bin_dir / "confound"), "audit", str(csv), "--out", str(out)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=host_environment(), start_new_session=True)
  time.sleep(1.0)
  sent = time.monotonic()
  os.killpg(audit.pid, signal.SIGINT)
  _, stderr = audit.communicate(timeout=WAIT)
  assert audit.returncode == 130, (audit.returncode, stderr)
  assert time.monotonic() - sent < 5, "one Ctrl-C is enough"
  # Reading these 300,000 rows takes 3-6 s here before the store appears; the signal came 1 s in.
  assert not (out / "run.sqlite").exists(), "the audit got past the read before it stopped"
