"""Peak memory of a host and its workers when each bound of issue 18 is hit: a batch of 50,000 requests, a PNG
of 30000x30000 pixels under 1 MB, a TIFF of 5,000 pages sharing one strip (and both just at the default limit of
2^28 samples), a 32 MiB method name. The process tree
(the host and every descendant) is sampled every 10 ms for the sum of its resident sets; each process's own peak
(VmHWM) is read before it exits. Usage: CONFOUND_BIN_DIR=.build/release python Tests/Benchmarks/bench_limits_memory.py
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

BIN = Path(os.environ.get("CONFOUND_BIN_DIR", ".build/release")).resolve()


def tree(root: int) -> list[int]:
  """`root` and its descendants, from /proc."""
  parents: dict[int, list[int]] = {}
  for entry in Path("/proc").iterdir():
    if entry.name.isdigit():
      try:
        ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
      except (OSError, IndexError):
        continue
      parents.setdefault(ppid, []).append(int(entry.name))
  found, todo = [], [root]
  while todo:
    pid = todo.pop()
    found.append(pid)
    todo += parents.get(pid, [])
  return found


def status_kib(pid: int, field: str) -> int:
  try:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
      if line.startswith(field + ":"):
        return int(line.split()[1])
  except OSError:
    pass
  return 0


class Sampler(threading.Thread):
  def __init__(self, root: int):
    super().__init__(daemon=True)
    self.root, self.peak_sum, self.hwm, self.running = root, 0, {}, True

  def run(self):
    while self.running:
      pids = tree(self.root)
      self.peak_sum = max(self.peak_sum, sum(status_kib(p, "VmRSS") for p in pids))
      for p in pids:
        self.hwm[p] = max(self.hwm.get(p, 0), status_kib(p, "VmHWM"))
      time.sleep(0.01)


def frame(body: bytes) -> bytes:
  return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream) -> bytes:
  length = 0
  while True:
    line = stream.readline()
    if not line:
      raise RuntimeError("host closed its output")
    if line in (b"\r\n", b"\n"):
      break
    if line.lower().startswith(b"content-length:"):
      length = int(line.split(b":")[1])
  body = b""
  while len(body) < length:
    body += stream.read(length - len(body))
  return body


def measure(name: str, bodies: list[bytes]) -> None:
  host = subprocess.Popen([str(BIN / "confound-host")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, bufsize=0)
  sampler = Sampler(host.pid)
  sampler.start()
  host.stdin.write(frame(b'{"jsonrpc":"2.0","id":"init","method":"initialize","params":{}}'))
  read_frame(host.stdout)
  time.sleep(0.5)
  base = sampler.peak_sum
  started = time.monotonic()
  replies = []
  for body in bodies:
    host.stdin.write(frame(body))
    while True:
      reply = read_frame(host.stdout)
      parsed = json.loads(reply)
      if isinstance(parsed, list) or "method" not in parsed:
        break
    replies.append(reply)
  seconds = time.monotonic() - started
  time.sleep(0.1)
  sampler.running = False
  sampler.join()
  host.stdin.close()
  host.wait(timeout=30)
  host_hwm = sampler.hwm.get(host.pid, 0)
  workers = max((v for p, v in sampler.hwm.items() if p != host.pid), default=0)
  shown = replies[-1][:160].decode(errors="replace")
  print(f"{name:<34} tree peak {sampler.peak_sum / 1024:7.1f} MiB (idle {base / 1024:6.1f}); host VmHWM "
        f"{host_hwm / 1024:7.1f} MiB; largest worker VmHWM {workers / 1024:7.1f} MiB; reply {len(replies[-1])} B "
        f"in {seconds:.2f} s: {shown}")


def png(path: Path, width: int, height: int) -> Path:
  def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
  compressor, parts, row = zlib.compressobj(9), [], b"\0" + bytes(width)
  for _ in range(height):
    parts.append(compressor.compress(row))
  parts.append(compressor.flush())
  path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                   + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
  return path


def shared_strip_tiff(path: Path, pages: int, side: int) -> Path:
  """A little-endian TIFF whose `pages` IFDs all point at one 8-bit strip of side x side."""
  strip_at = 8
  data = bytearray(b"II*\0" + struct.pack("<I", 8 + side * side)) + bytes(side * side)
  tags = lambda: [(256, 4, side), (257, 4, side), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, strip_at),
                  (277, 3, 1), (278, 4, side), (279, 4, side * side)]
  for page in range(pages):
    offset = len(data)
    entries = tags()
    data += struct.pack("<H", len(entries))
    for tag, kind, value in entries:
      data += struct.pack("<HHII", tag, kind, 1, value) if kind == 4 else struct.pack("<HHIHH", tag, kind, 1, value, 0)
    data += struct.pack("<I", 0 if page == pages - 1 else offset + 2 + 12 * len(entries) + 4)
  path.write_bytes(bytes(data))
  return path


def run(index: int, files: list[str]) -> bytes:
  return json.dumps({"jsonrpc": "2.0", "id": index, "method": "plugins/run",
                     "params": {"plugin": "confound.focus", "inputs": [{"name": "image", "files": files}]}}).encode()


def main() -> None:
  folder = Path(tempfile.mkdtemp())
  batch = [{"jsonrpc": "2.0", "id": i, "method": "plugins/list"} for i in range(50_000)]
  measure("batch of 50,000 plugins/list", [json.dumps(batch).encode()])
  measure("batch of 1,000 plugins/list", [json.dumps(batch[:1000]).encode()])
  big = png(folder / "big.png", 30_000, 30_000)
  print(f"  ({big.name}: {big.stat().st_size} bytes)")
  measure("PNG 30000x30000", [run(1, [str(big)])])
  pages = shared_strip_tiff(folder / "pages.tif", 5000, 256)
  print(f"  ({pages.name}: {pages.stat().st_size} bytes)")
  measure("TIFF 5,000 pages of 256x256", [run(1, [str(pages)])])
  # Just at the default limit (2^28 samples): accepted, decoded and scored.
  measure("PNG 16384x16384 (at the limit)", [run(1, [str(png(folder / "edge.png", 16384, 16384))])])
  measure("TIFF 4,096 pages (at the limit)", [run(1, [str(shared_strip_tiff(folder / "edge.tif", 4096, 256))])])
  method = b'{"jsonrpc":"2.0","id":1,"method":"' + b"m" * (32 << 20) + b'"}'
  measure("method name of 32 MiB", [method])


if __name__ == "__main__":
  sys.exit(main())
