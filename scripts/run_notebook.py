"""Executes one notebook headless through its Jupyter kernel and exports it to HTML.

Driven by scripts/reproduce.ts. Prints one JSON object per line on stdout so the caller can show progress and
name the failing cell: {"event": "start", "cells": n}, {"event": "cell", "index": i, "seconds": s},
{"event": "progress", "index": i, "text": ...} whenever a cell's progress display redraws (decomp's
report.progressDisplay: stage, done/total, rate, time left), then {"event": "done", ...} or
{"event": "failed", "cell": i, "source": ..., "error": ...}.
Runs with Debian's python (/usr/bin/python3), which carries nbclient and nbconvert.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class ProgressClient(NotebookClient):
    """Forwards every redraw of a decomp progress display to the caller while the cell still runs."""

    def process_message(self, msg, cell, cell_index):
        if msg.get("msg_type") in ("display_data", "update_display_data"):
            data = msg.get("content", {}).get("data", {})
            if "decomp-progress" in data.get("text/html", ""):
                emit(event="progress", index=cell_index, text=data.get("text/plain", ""))
        return super().process_message(msg, cell, cell_index)


def error_text(cell):
    """The kernel's own error report for a failed cell: tslab sends type errors on stderr and an empty ename."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            parts.append("{}: {}".format(out.get("ename", ""), out.get("evalue", "")).strip(": "))
            parts.extend(out.get("traceback", [])[-3:])
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
    return "\n".join(p for p in parts if p).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--executed", required=True, help="where to write the executed .ipynb")
    ap.add_argument("--html", required=True, help="where to write the HTML report")
    ap.add_argument("--cell-timeout", type=int, default=3600)
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    emit(event="start", cells=len(nb.cells), code_cells=len(code_cells))
    started = {}

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.time()
        emit(event="cell_start", index=cell_index)

    def on_cell_executed(cell, cell_index, execute_reply):
        emit(event="cell", index=cell_index, seconds=round(time.time() - started.get(cell_index, time.time()), 2))

    client = ProgressClient(
        nb,
        timeout=args.cell_timeout,
        # nbclient waits 60 s for a new kernel by default; the tslab kernel took longer than that to answer on two
        # cores kept busy by training tests running beside it (a fresh-clone CI run failed that way).
        startup_timeout=600,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "tslab"),
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    failure = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        failure = exc
    # The executed notebook and its HTML are written even on failure: the failing cell's output is the diagnosis.
    nbformat.write(nb, args.executed)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    with open(args.html, "w", encoding="utf-8") as f:
        f.write(html)
    if failure is not None:
        index = next((i for i in reversed(list(started)) if i in started), None)
        cell = nb.cells[index] if index is not None else {}
        detail = error_text(cell) if cell else ""
        emit(event="failed", cell=index, source=cell.get("source", "") if cell else "",
             error=detail or str(failure).strip().splitlines()[-1])
        return 1
    emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
