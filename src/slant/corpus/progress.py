"""The terminal side of ``slant batch``: a rich progress bar (rate, ETA) on stderr and the summary."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from ..render import counted
from .batch import BatchSummary

__all__ = ["BatchProgress", "print_summary"]


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("  -.- articles/s" if speed is None else f"{speed:5.1f} articles/s", style="progress.data.speed")


class BatchProgress:
    """A progress bar that appears only on a terminal (and not with --quiet)."""

    def __init__(self, enabled: bool = True):
        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("[bold]analysing"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                                 TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=self.console, disable=not enabled, transient=False)
        self.task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.task is not None:
            self.progress.__exit__(*exc)

    def start(self, total: int, done: int) -> None:
        """Shows the bar once the work is known: a run refused before any work prints its error line alone."""
        self.progress.__enter__()
        self.task = self.progress.add_task("batch", total=total, completed=done)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def print_summary(s: BatchSummary, console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    table = Table(title=f"slant batch → {s.out}", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("inputs", f"{s.inputs:,}")
    if s.resumed:
        table.add_row("done by an earlier run", f"{s.resumed:,}")
    table.add_row("analysed now", f"{s.analysed:,}  ({counted(s.spans, 'span')})")
    table.add_row("errors now", f"{s.errors:,}")
    table.add_row("duplicates now", f"{s.duplicates:,}")
    if s.repeated:
        table.add_row("inputs named twice (skipped)", f"{s.repeated:,}")
    workers = f"{s.workers} {s.engine} worker{'s' if s.workers != 1 else ''}"
    if 0 < len(s.peak_rss) < s.workers:   # a small run keeps only some of them busy
        workers += f", {len(s.peak_rss)} busy"
    table.add_row("time", f"{s.seconds:,.1f} s  ({s.rate:,.2f} analysed/s, {workers})")
    if s.peak_rss:
        table.add_row("peak RSS per worker", ", ".join(_mb(v) for v in sorted(s.peak_rss.values())))
    t = s.totals
    table.add_row("output", ", ".join(counted(t.get(table_name, 0), table_name[:-1])
                                      for table_name in ("articles", "spans", "errors", "duplicates")))
    console.print(table)
    if t.get("errors"):
        console.print(f'see why: slant query {s.out} "SELECT origin, reason FROM errors"')
