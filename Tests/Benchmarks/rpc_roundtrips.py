"""Small JSON-RPC round trips per second through pipes: confound-host against python-lsp-jsonrpc's own server side
(pylsp_server.py), both driven by the same raw-pipe client written here.

  .venv/bin/python Tests/Benchmarks/rpc_roundtrips.py [--seconds 3]

Strict: send one request, wait for its response, repeat. Pipelined: k requests in flight, one more sent per
response. The request is `plugins/list` (answered inline on the host's reader thread); the Python server returns
the same result the host gave, so both send the same data. Two more host variants separate the cost of the answer
from the cost of the trip: `plugins/list` with no plugin loaded (a ~40-byte result) and an unknown method (-32601,
no handler runs). A raw echo server in Python (no JSON parsing) shows how fast this client itself can go.
The last column is the server's own CPU time per strict round trip (from /proc), which a busy machine does not
inflate the way it inflates wall time. The issue's aim for the host is >= 20,000 strict round trips/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# A server that echoes a fixed response per frame without parsing JSON: the ceiling of this client.
ECHO_SERVER = r"""
import os, sys
body = open(sys.argv[1], 'rb').read()
out, buf = sys.stdout.fileno(), b''
while True:
  chunk = os.read(0, 65536)
  if not chunk: break
  buf += chunk
  while True:
    end = buf.find(b'\r\n\r\n')
    if end < 0: break
    length = int(buf[:end].split(b':')[1])
    if len(buf) < end + 4 + length: break
    request, buf = buf[end + 4:end + 4 + length], buf[end + 4 + length:]
    rid = request[request.find(b'"id":') + 5:].split(b',')[0]
    reply = b'{"jsonrpc":"2.0","id":' + rid + b',"result":' + body + b'}'
    os.write(out, b'Content-Length: %d\r\n\r\n' % len(reply) + reply)
"""


class PipeClient:
  """A raw LSP-framed client: requests are pre-rendered byte templates, responses are matched by id bytes."""

  def __init__(self, command: list[str], env: dict[str, str] | None = None):
    self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env, bufsize=0)
    self.wfd = self.process.stdin.fileno()
    self.rfd = self.process.stdout.fileno()
    self.buffer = b""
    self.next_id = 0

  def request_bytes(self, method: str, params=None) -> bytes:
    self.next_id += 1
    message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
    if params is not None:
      message["params"] = params
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body

  def read_body(self) -> bytes:
    """The next frame's body."""
    while True:
      end = self.buffer.find(b"\r\n\r\n")
      if end >= 0:
        start = self.buffer.find(b"Content-Length:", 0, end) + 15
        length = int(self.buffer[start:self.buffer.find(b"\r\n", start, end + 2)])
        stop = end + 4 + length
        if len(self.buffer) >= stop:
          body, self.buffer = self.buffer[end + 4:stop], self.buffer[stop:]
          return body
      chunk = os.read(self.rfd, 1 << 16)
      if not chunk:
        raise RuntimeError("the server closed its output")
      self.buffer += chunk

  def read_response(self) -> bytes:
    """The next response body, skipping notifications (a response never has a top-level "method" before "id")."""
    while True:
      body = self.read_body()
      head = body[:48]
      if b'"id"' in head and b'"method"' not in head:
        return body

  def call(self, method: str, params=None) -> dict:
    os.write(self.wfd, self.request_bytes(method, params))
    return json.loads(self.read_response())

  def strict(self, method: str, seconds: float) -> float:
    """Round trips per second, one request in flight."""
    os.write(self.wfd, self.request_bytes(method))  # warm-up
    self.read_response()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    template = self.request_bytes(method)
    while True:
      os.write(self.wfd, template)
      self.read_response()
      count += 1
      if count & 63 == 0 and time.perf_counter() > deadline:
        break
    return count / (time.perf_counter() - start)

  def pipelined(self, method: str, seconds: float, depth: int) -> float:
    """Responses per second with `depth` requests in flight (the same id repeats: only counts matter here)."""
    template = self.request_bytes(method)
    os.write(self.wfd, template * depth)
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
      for _ in range(64):
        self.read_response()
        os.write(self.wfd, template)
      count += 64
    elapsed = time.perf_counter() - start
    for _ in range(depth):
      self.read_response()
    return count / elapsed

  def close(self) -> None:
    try:
      self.call("shutdown")
      os.write(self.wfd, b'Content-Length: 33\r\n\r\n{"jsonrpc":"2.0","method":"exit"}')
      self.process.stdin.close()
      self.process.wait(timeout=10)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
      self.process.kill()
      self.process.wait()


def host_client(bin_dir: Path, *extra: str) -> PipeClient:
  env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
  env.pop("CONFOUND_PLUGIN_PATH", None)
  client = PipeClient([str(bin_dir / "confound-host"), *extra], env)
  reply = client.call("initialize", {"processId": os.getpid()})
  assert "result" in reply, reply
  return client


def cpu_seconds(pid: int) -> float:
  """User + system CPU time of a process so far (Linux /proc): load-independent, unlike round trips per second."""
  fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
  return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(client: PipeClient, method: str, seconds: float, depths: list[int]) -> dict:
  before = cpu_seconds(client.process.pid)
  rate = client.strict(method, seconds)
  used = cpu_seconds(client.process.pid) - before
  row = {"strict": rate, "server CPU us/req": 1e6 * used / (rate * seconds)}
  for depth in depths:
    row[f"k={depth}"] = client.pipelined(method, seconds, depth)
  return row


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
  parser.add_argument("--depths", default="8,64", help="pipeline depths, comma-separated")
  parser.add_argument("--plugin-dir", help="extra --plugin-dir for the host (makes plugins/list longer)")
  args = parser.parse_args()
  bin_dir = Path(os.environ.get("CONFOUND_BIN_DIR", REPO / ".build" / "release"))
  depths = [int(d) for d in args.depths.split(",") if d]
  rows: dict[str, dict] = {}
  sizes: dict[str, int] = {}

  extra = ["--plugin-dir", args.plugin_dir] if args.plugin_dir else []
  host = host_client(bin_dir, *extra)
  listing = host.call("plugins/list")["result"]
  with tempfile.TemporaryDirectory() as tmp:
    listing_file = Path(tmp) / "listing.json"
    listing_file.write_text(json.dumps(listing, separators=(",", ":")))
    sizes["plugins/list"] = len(listing_file.read_bytes())
    rows["confound-host plugins/list"] = measure(host, "plugins/list", args.seconds, depths)
    host.close()

    empty = host_client(bin_dir, "--no-builtin-plugins")
    rows["confound-host plugins/list, no plugins"] = measure(empty, "plugins/list", args.seconds, depths)
    rows["confound-host unknown method (-32601)"] = measure(empty, "no/such", args.seconds, depths)
    empty.close()

    reference = PipeClient([sys.executable, str(HERE / "pylsp_server.py"), str(listing_file)])
    reference.call("initialize", {})
    rows["pylsp_jsonrpc server plugins/list"] = measure(reference, "plugins/list", args.seconds, depths)
    reference.close()

    echo = PipeClient([sys.executable, "-c", ECHO_SERVER, str(listing_file)])
    rows["raw Python echo (client ceiling)"] = measure(echo, "plugins/list", args.seconds, depths)
    echo.process.stdin.close()
    echo.process.wait(timeout=10)

  columns = ["strict"] + [f"k={d}" for d in depths] + ["server CPU us/req"]
  print(f"round trips/s over pipes, {args.seconds:g} s each; plugins/list result {sizes['plugins/list']} bytes")
  print(f"{'server':42}" + "".join(f"{c:>12}" for c in columns[:-1]) + f"{columns[-1]:>20}")
  for name, row in rows.items():
    print(f"{name:42}" + "".join(f"{row[c]:12,.0f}" for c in columns[:-1]) + f"{row[columns[-1]]:20.1f}")
  host_row, ref_row = rows["confound-host plugins/list"], rows["pylsp_jsonrpc server plugins/list"]
  print(f"{'ratio host / pylsp_jsonrpc':42}" + "".join(f"{host_row[c] / ref_row[c]:12.2f}" for c in columns[:-1]))
  aim = 20000
  verdict = "meets" if host_row["strict"] >= aim else "is below"
  print(f"host strict plugins/list: {host_row['strict']:,.0f}/s {verdict} the aim of {aim:,}/s")
  c_client_table(bin_dir, args.seconds)


def c_client_table(bin_dir: Path, seconds: float) -> None:
  """The same strict round trips driven by rpc_client.c, which is not the bottleneck the Python client is."""
  with tempfile.TemporaryDirectory() as tmp:
    client = Path(tmp) / "rpc_client"
    subprocess.run(["gcc", "-O2", "-o", str(client), str(HERE / "rpc_client.c")], check=True)
    host = bin_dir / "confound-host"
    listing_file = Path(tmp) / "listing.json"
    env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
    probe = host_client(bin_dir)
    listing_file.write_text(json.dumps(probe.call("plugins/list")["result"], separators=(",", ":")))
    probe.close()

    def run(method: str, *server: str) -> tuple[float, float]:
      out = subprocess.run([str(client), str(seconds), method, "--", *server], check=True, capture_output=True,
                           text=True, env=env).stdout.split()
      return float(out[0]), float(out[1])

    rows = {
      "confound-host plugins/list": run("plugins/list", str(host)),
      "confound-host unknown method (-32601)": run("no/such", str(host), "--no-builtin-plugins"),
      "pylsp_jsonrpc server plugins/list": run("plugins/list", sys.executable, str(HERE / "pylsp_server.py"),
                                              str(listing_file)),
    }
  print(f"\nstrict round trips/s with the C client (rpc_client.c), {seconds:g} s each")
  for name, (rate, cpu) in rows.items():
    print(f"{name:42}{rate:12,.0f}{cpu:20.1f} server CPU us/req")
  ratio = rows["confound-host plugins/list"][0] / rows["pylsp_jsonrpc server plugins/list"][0]
  print(f"{'ratio host / pylsp_jsonrpc':42}{ratio:12.2f}")


if __name__ == "__main__":
  main()
