"""Confound from Python: a synchronous client of ``confound-host``, run stores as pandas DataFrames, and audits
sharded over Dask (:mod:`confound.distributed`)."""

__version__ = "0.1.0"

from .host import Cancelled, Host, HostError, HostExited, find_host  # noqa: E402
from .run import Run, audit, open_run  # noqa: E402

__all__ = ["Host", "HostError", "Cancelled", "HostExited", "find_host", "Run", "audit", "open_run"]
