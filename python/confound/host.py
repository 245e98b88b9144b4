"""A synchronous client of ``confound-host``: the host as a child process, its JSON-RPC protocol over pipes.

Framing and request bookkeeping are python-lsp-jsonrpc's (``JsonRpcStreamReader``/``Writer`` and ``Endpoint``),
since the host frames messages exactly as the Language Server Protocol does. Everything is synchronous on the
caller's thread: a notebook already runs an event loop, so ``asyncio.run`` inside a cell would fail.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.exceptions import JsonRpcException
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter

from . import __version__

log = logging.getLogger("confound")

PROTOCOL_VERSION = "1.0"
REQUEST_CANCELLED = -32800
# window/logMessage types (1 error ... 4 debug) as logging levels.
_LOG_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}


class HostError(Exception):
  """An error response of the host: ``code`` (Protocol/README.md, "Errors"), ``message`` for people (it names
  the file, field or plugin and says what to do) and ``data`` for programs (``field``, ``plugin``, ``file``)."""

  def __init__(self, code: int, message: str, data: Any = None, method: str | None = None):
    super().__init__(f"{method + ': ' if method else ''}{message} (code {code})")
    self.code = code
    self.message = message
    self.data = data
    self.method = method


class Cancelled(HostError):
  """The request was cancelled (Ctrl-C in the caller, or ``shutdown``); the host answered -32800."""


class HostExited(HostError):
  """The host process ended before it answered."""


def find_host(host: str | os.PathLike | None = None) -> Path:
  """The ``confound-host`` executable: ``host`` when given (a file, or a folder holding it), else one in
  ``$CONFOUND_BIN_DIR``, else the one beside a ``confound`` on ``PATH``, else a ``confound-host`` on ``PATH``."""
  candidates: list[Path] = []
  if host is not None:
    path = Path(host)
    candidates.append(path / "confound-host" if path.is_dir() else path)
  else:
    if os.environ.get("CONFOUND_BIN_DIR"):
      candidates.append(Path(os.environ["CONFOUND_BIN_DIR"]) / "confound-host")
    for name in ("confound", "confound-host"):
      found = shutil.which(name)
      if found:
        candidates.append(Path(found).resolve().parent / "confound-host")
  for candidate in candidates:
    if candidate.is_file() and os.access(candidate, os.X_OK):
      return candidate.resolve()
  tried = ", ".join(str(c) for c in candidates) or "nothing"
  raise FileNotFoundError(
    f"no confound-host found (tried {tried}): pass host='/path/to/confound-host', set CONFOUND_BIN_DIR to the "
    "folder of the built binaries (.build/release), or put confound on PATH")


class _Progress:
  """One ``$/progress`` token shown as a tqdm bar (begin, report, end), or passed to a callback."""

  def __init__(self, show: bool, callback: Callable[[dict], None] | None):
    self.show = show
    self.callback = callback
    self.bar = None

  def __call__(self, value: dict) -> None:
    if self.callback is not None:
      self.callback(value)
    if not self.show:
      return
    kind = value.get("kind")
    if kind == "begin" and self.bar is None:
      from tqdm.auto import tqdm

      self.bar = tqdm(total=100, desc=value.get("title") or "confound", unit="%", leave=False)
    elif self.bar is not None:
      if value.get("percentage") is not None:
        self.bar.n = int(value["percentage"])
      if value.get("message"):
        self.bar.set_postfix_str(value["message"], refresh=False)
      self.bar.refresh()
      if kind == "end":
        self.close()

  def close(self) -> None:
    if self.bar is not None:
      self.bar.close()
      self.bar = None


class Host:
  """A running ``confound-host``, initialised, shut down on ``close()`` or at the end of a ``with`` block.

  ``Host(host=None, plugin_dirs=(), workers=None, log_level="warning", progress=True)``: ``host`` as in
  :func:`find_host`; ``plugin_dirs`` and ``workers`` become ``--plugin-dir`` and ``--workers``; the host's log
  lines reach the ``confound`` logger (``window/logMessage``) and its stderr the caller's stderr.
  """

  def __init__(self, host: str | os.PathLike | None = None, plugin_dirs=(), workers: int | None = None,
         log_level: str = "warning", progress: bool = True, env: dict | None = None):
    self.executable = find_host(host)
    self.progress = progress
    arguments = [str(self.executable), "--log-level", log_level]
    for folder in plugin_dirs:
      arguments += ["--plugin-dir", str(folder)]
    if workers is not None:
      arguments += ["--workers", str(workers)]
    # A session of its own: Ctrl-C in a terminal reaches this process alone, which then cancels the request;
    # the host would otherwise die of the same SIGINT with every finished-but-unreported result.
    self._process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     start_new_session=True, env=env)
    self._ids = itertools.count(1)
    self._notifications: queue.Queue = queue.Queue()
    self._progress: dict[Any, _Progress] = {}
    self._writer = JsonRpcStreamWriter(self._process.stdin)
    dispatcher = {"$/progress": self._on_progress, "window/logMessage": self._on_log}
    self._last_id = 0
    self._request_lock = threading.Lock()
    self._endpoint = Endpoint(dispatcher, self._writer.write, id_generator=self._next_id)
    self._reader = JsonRpcStreamReader(self._process.stdout)
    self._listener = threading.Thread(target=self._listen, name="confound-host reader", daemon=True)
    self._listener.start()
    self._closed = False
    try:
      self.info = self.call("initialize", progress=False, processId=os.getpid(),
                 clientInfo={"name": "confound-python", "version": __version__},
                 protocolVersion=PROTOCOL_VERSION)
    except BaseException:
      self.close()
      raise
    self._endpoint.notify("initialized", {})

  # The reader thread only hands messages over: responses resolve their futures, notifications are queued and
  # handled on the caller's thread (so a progress callback runs there, and a KeyboardInterrupt raised in it
  # cancels the request like a Ctrl-C).
  def _listen(self) -> None:
    try:
      self._reader.listen(self._endpoint.consume)
    finally:
      self._notifications.put(None)

  def _on_progress(self, params: dict) -> None:
    self._notifications.put(("progress", params))

  def _on_log(self, params: dict) -> None:
    log.log(_LOG_LEVELS.get(params.get("type"), logging.INFO), "%s", params.get("message", ""))

  @property
  def methods(self) -> list[str]:
    """The methods this host answers (``capabilities.methods``)."""
    return list(self.info["capabilities"]["methods"])

  def plugins(self) -> list[dict]:
    """Every loaded plugin (``manifest``, ``path``, ``isDefault``), in load order."""
    return self.call("plugins/list", progress=False)["plugins"]

  def call(self, method: str, progress: bool | Callable[[dict], None] | None = None, timeout: float | None = None,
       **params) -> Any:
    """Sends one request and returns its result; an error response raises :class:`HostError`.

    ``progress``: True shows a tqdm bar from ``$/progress``, a callable receives each progress value (kind,
    percentage, message), False shows nothing; default: the host's ``progress``. Ctrl-C (KeyboardInterrupt)
    while waiting sends ``$/cancelRequest``, waits for the host's answer (every request gets one) and raises
    :class:`Cancelled`; the host stays usable.
    """
    if self._closed:
      raise HostExited(-32603, "the host was closed", method=method)
    show = self.progress if progress is None else progress is True or (callable(progress) and self.progress)
    display = _Progress(bool(show), progress if callable(progress) else None)
    token = None
    if show or callable(progress):
      token = f"py-{next(self._ids)}"
      params["workDoneToken"] = token
      self._progress[token] = display
    with self._request_lock:
      future = self._endpoint.request(method, params)
      request_id = self._last_id
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
      try:
        self._wait(future, deadline, method)
      except KeyboardInterrupt:
        # Not future.cancel(): the host still answers a cancelled request (-32800, or its result when it
        # had finished), and that answer must find the future pending.
        self._endpoint.notify("$/cancelRequest", {"id": request_id})
        self._wait(future, time.monotonic() + 30, method, interruptible=False)
      return self._result(future, method)
    finally:
      display.close()
      if token is not None:
        self._progress.pop(token, None)

  def _next_id(self) -> int:
    self._last_id = next(self._ids)
    return self._last_id

  def _wait(self, future, deadline: float | None, method: str, interruptible: bool = True) -> None:
    while not future.done():
      if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError(f"{method}: no answer from confound-host in time")
      try:
        item = self._notifications.get(timeout=0.05)
      except queue.Empty:
        continue
      if item is None:  # the host's stdout closed
        self._notifications.put(None)
        if not future.done():
          status = self._process.poll()
          raise HostExited(-32603, f"confound-host exited (status {status}) before answering", method=method)
        break
      _, params = item
      display = self._progress.get(params.get("token"))
      if display is None:
        continue
      if interruptible:
        display(params.get("value", {}))
      else:
        try:
          display(params.get("value", {}))
        except KeyboardInterrupt:
          pass

  @staticmethod
  def _result(future, method: str) -> Any:
    error = future.exception()
    if error is None:
      return future.result()
    if isinstance(error, JsonRpcException):
      kind = Cancelled if error.code == REQUEST_CANCELLED else HostError
      raise kind(error.code, error.message, getattr(error, "data", None), method=method) from None
    raise error

  def close(self) -> None:
    """``shutdown`` and ``exit``, then waits for the host to end (killing it after 10 s)."""
    if self._closed:
      return
    self._closed = True
    if self._process.poll() is None:
      try:
        future = self._endpoint.request("shutdown", {})
        self._wait(future, time.monotonic() + 10, "shutdown", interruptible=False)
        self._endpoint.notify("exit")
      except (OSError, ValueError, TimeoutError, HostError):
        pass
      try:
        self._process.stdin.close()
      except OSError:
        pass
      try:
        self._process.wait(timeout=10)
      except subprocess.TimeoutExpired:
        self._process.kill()
        self._process.wait()
    self._endpoint.shutdown()

  def __enter__(self) -> "Host":
    return self

  def __exit__(self, *exc) -> None:
    self.close()

  def __del__(self):
    try:
      self.close()
    except Exception:
      pass
