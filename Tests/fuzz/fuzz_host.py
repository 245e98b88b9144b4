"""A seeded, longer fuzz run of confound-host: mutated frames (headers and bodies) from corpus/*.json, and mutated
images from corpus/site.{tif,png,npy} scored through focus/score and plugins/run. After every round a probe request
must be answered within --wait seconds, and the host must still be running; any miss stops the run with the seed,
the round and the bytes that preceded it (written to --out), so the case replays exactly.

  .venv/bin/python Tests/fuzz/fuzz_host.py --frames 20000 --images 2000 --seed 18 [--bin-dir .build/release]

Run it with the test venv's Python (it reuses Tests/python/conftest.py's raw host); see Tests/fuzz/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "Tests/python"))
from conftest import RawHost  # noqa: E402  (the test suite's raw-pipe host; needs the venv's pytest)
STRUCTURAL = b'{}[]",:\\0123456789eE.-+ \r\n\x00\xff'
# The host's --max-message-bytes in this run. A header may announce any length up to it; longer ones are clamped,
# since the host rightly skips that many bytes (a 2^62-byte skip would swallow the rest of the run).
LIMIT = 65536
LENGTH = re.compile(rb"(?i)(content-length[ \t]*:[ \t]*)(\d+)")


def mutate(data: bytes, rng: random.Random) -> bytes:
  out = bytearray(data)
  for _ in range(rng.randint(1, 6)):
    at = rng.randrange(len(out) + 1)
    choice = rng.randrange(6)
    if choice == 0 and out:
      out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
    elif choice == 1:
      out[at:at] = bytes([rng.choice(STRUCTURAL)])
    elif choice == 2 and out:
      del out[at:at + rng.randint(1, 16)]
    elif choice == 3 and out:
      out[at:at] = out[at:at + rng.randint(1, 32)]
    elif choice == 4:
      out[at:at] = str(rng.choice([0, -1, 2**31, 2**63, 10**30])).encode()
    else:
      out[at:at] = bytes([rng.randrange(256)])
  return bytes(out)


class Host(RawHost):
  """conftest's raw host (exact bytes in, frames parsed by hand out), plus a probe with a deadline."""

  def __init__(self, bin_dir: Path, stderr_path: Path):
    super().__init__([str(bin_dir / "confound-host"), "--max-message-bytes", str(LIMIT)], stderr_path)

  def send(self, data: bytes):
    self.send_bytes(data)

  @staticmethod
  def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body

  def probe(self, probe_id: str, wait: float) -> bool:
    """Sends plugins/list with a unique id; true when its answer comes within `wait` seconds."""
    self.send(self.frame(json.dumps({"jsonrpc": "2.0", "id": probe_id, "method": "plugins/list"}).encode()))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
      try:
        message = self.frames.get(timeout=max(0.01, deadline - time.monotonic()))
      except queue.Empty:
        break
      if message is None:
        return False
      if isinstance(message, dict) and message.get("id") == probe_id:
        return True
    return False


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seed", type=int, default=18)
  parser.add_argument("--frames", type=int, default=20000)
  parser.add_argument("--images", type=int, default=2000)
  parser.add_argument("--round", type=int, default=50, help="frames between probes")
  parser.add_argument("--wait", type=float, default=30.0)
  parser.add_argument("--bin-dir", type=Path, default=Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build/release")))
  parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "confound-fuzz-failure.bin")
  args = parser.parse_args()
  rng = random.Random(args.seed)
  bodies = [p.read_bytes().strip() for p in sorted((HERE / "corpus").glob("*.json"))]
  images = {p.suffix: p.read_bytes() for p in sorted((HERE / "corpus").glob("site.*"))}
  work = Path(tempfile.mkdtemp(prefix="confound-fuzz-"))
  host = Host(args.bin_dir, work / "host.stderr")
  host.send(host.frame(bodies[[b"initialize" in b for b in bodies].index(True)]))
  sent: list[bytes] = []
  started = time.monotonic()
  total = args.frames + args.images
  for i in range(total):
    if i < args.frames:
      header_and_body = host.frame(mutate(rng.choice(bodies), rng))
      data = mutate(header_and_body, rng) if rng.random() < 0.25 else header_and_body
      data = LENGTH.sub(lambda m: m.group(1) + (m.group(2) if int(m.group(2)) <= LIMIT else b"%d" % LIMIT), data)
    else:
      suffix = rng.choice(sorted(images))
      path = work / f"m{i % 64}{suffix}"
      path.write_bytes(mutate(images[suffix], rng))
      if suffix == ".npy":
        params = {"kind": "focus", "inputs": [{"name": "image", "npy": str(path)}], "timeoutSeconds": 10}
        data = host.frame(json.dumps({"jsonrpc": "2.0", "id": f"img{i}", "method": "plugins/run", "params": params}).encode())
      else:
        params = {"images": [[str(path)]]}
        data = host.frame(json.dumps({"jsonrpc": "2.0", "id": f"img{i}", "method": "focus/score", "params": params}).encode())
    sent.append(data)
    host.send(data)
    if (i + 1) % args.round == 0 or i + 1 == total:
      # End whatever the noise left open: a body still owed (at most LIMIT bytes; newlines are skipped between
      # frames), then a header, then probe.
      host.send(b"\n" * (LIMIT + 8) + b"\r\n\r\n" + host.frame(b"{}"))
      if not host.probe(f"probe-{i}", args.wait) or host.process.poll() is not None:
        args.out.write_bytes(b"".join(sent[-args.round:]))
        print(f"FAIL seed {args.seed} at message {i}: no answer to the probe within {args.wait} s "
              f"(host {'exited ' + str(host.process.returncode) if host.process.poll() is not None else 'running'}); "
              f"the last {args.round} messages are in {args.out}; host stderr in {work / 'host.stderr'}", file=sys.stderr)
        host.process.kill()
        return 1
      sent.clear()
  host.process.stdin.close()
  status = host.process.wait(timeout=30)
  print(f"seed {args.seed}: {args.frames} frames and {args.images} images, every probe answered, host exit status "
        f"{status}, {time.monotonic() - started:.1f} s")
  return 0 if status in (0, 1) else 1


if __name__ == "__main__":
  sys.exit(main())
