"""examples/audit.ipynb executed top to bottom by nbclient, as a reader would run it: it must finish without an
error, show the findings and draw the plate map."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO


def test_the_example_notebook_runs(bin_dir, tmp_path, monkeypatch):
  monkeypatch.setenv("CONFOUND_EXAMPLE_OUT", str(tmp_path / "example"))
  notebook = nbformat.read(REPO / "examples" / "audit.ipynb", as_version=4)
  client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
  client.execute()
  outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
  assert "depends on" in text  # the verdicts
  assert any("image/png" in o.get("data", {}) for o in outputs)  # the plate map
  assert (tmp_path / "example" / "run.sqlite").is_file()
