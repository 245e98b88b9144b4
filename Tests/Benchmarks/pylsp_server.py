"""A tiny JSON-RPC server built from python-lsp-jsonrpc's own server side (Endpoint + stream reader/writer) on
stdin/stdout: the reference point rpc_roundtrips.py compares confound-host against.

It answers `initialize`, `shutdown` and `plugins/list`; the `plugins/list` result is read from the JSON file named
by the first argument, so both servers send back the same data (pylsp_jsonrpc serialises with ujson when installed,
compact; forward slashes are left unescaped to keep the byte count equal). `exit` ends it.

  python pylsp_server.py LIST_RESULT.json
"""

import json
import sys

from pylsp_jsonrpc import streams
from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter


def main() -> None:
  with open(sys.argv[1]) as f:
    listing = json.load(f)
  reader = JsonRpcStreamReader(sys.stdin.buffer)
  dumps_args = {"escape_forward_slashes": False} if streams.json.__name__ == "ujson" else {"separators": (",", ":")}
  writer = JsonRpcStreamWriter(sys.stdout.buffer, **dumps_args)
  dispatcher = {
    "initialize": lambda params: {"serverInfo": {"name": "pylsp-jsonrpc-reference"}, "capabilities": {}},
    "initialized": lambda params: None,
    "plugins/list": lambda params: listing,
    "shutdown": lambda params: None,
    "exit": lambda params: sys.exit(0),
  }
  endpoint = Endpoint(dispatcher, writer.write)
  reader.listen(endpoint.consume)
  endpoint.shutdown()


if __name__ == "__main__":
  main()
