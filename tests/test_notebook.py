"""The analyst's notebook runs headless on the sample data, top to bottom."""

from __future__ import annotations

import nbformat
from conftest import REPO
from nbclient import NotebookClient


def test_weekly_review_notebook_runs(tmp_path) -> None:
    notebook = nbformat.read(REPO / "notebooks" / "weekly_review.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "2024-W26: as of 2024-06-30; street zones approximate: True" in text
    assert "普陀区" in text
    html = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "rollout-data" in html  # the map rendered inline
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart
