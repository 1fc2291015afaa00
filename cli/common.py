"""What every command shares: the app, the console, the history option and loader,
the model reference option."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from features.history import History, HistoryError, LoadReport, load_history

if TYPE_CHECKING:
    from distributed import Client

    from features.partitioned import PartitionedHistory
    from scoring.artifact import ClaimRiskModel


app = typer.Typer(
    help="claimrisk: predict medical claim denials before submission, and say why.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


# Piped into a file or a CI log, tables are not cut at 80 columns (rich's default there).
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)


os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")


os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@contextmanager
def steps(title: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar for a long job: the library tells (what now, steps done, steps in all)."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(title, total=None)

        def tell(message: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {message}", completed=done, total=total)

        yield tell
        bar.update(task, description=f"{title}: done", completed=bar.tasks[0].total or 1)


HistoryDir = Annotated[
    Path, typer.Option("--history", help="History folder: one CSV or Parquet file per table.")
]


HistoryPlace = Annotated[
    str,
    typer.Option(
        "--history",
        help="History folder: one CSV or Parquet file per table; with --cluster, a folder or "
        "URL (s3://..., any fsspec URL) holding a Parquet dataset per table.",
    ),
]


Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run on Dask: 'local' (a cluster of this machine's cores) or a scheduler address "
        "(tcp://HOST:8786). README: On a cluster.",
    ),
]


SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="Drop invalid rows (counted and reported) instead of failing."
    ),
]


def date_option(help: str) -> Any:
    """A YYYY-MM-DD option: typer parses it and names the option when it is not a date."""
    return typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help=help)


def day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def load_checked(history: Path, skip_invalid: bool, quiet: bool = False) -> History:
    try:
        with console.status(f"Loading and validating {history} ..."):
            loaded = load_history(history, skip_invalid=skip_invalid)
    except HistoryError as error:
        console.print(f"[red]Invalid history[/red]: {error}")
        raise typer.Exit(2) from error
    if not quiet:
        print_report(loaded.report)
    return loaded


@contextmanager
def on_cluster(address: str) -> Iterator[Client]:
    """A Dask client of ``address`` (``local`` starts a cluster of this machine)."""
    from features.cluster import connect

    stack = ExitStack()
    try:
        with console.status(f"Connecting to the cluster {address} ..."):
            client = stack.enter_context(connect(address))
    except (OSError, ValueError) as error:  # unreachable, refused, or not an address
        console.print(f"[red]Cannot use the cluster {address}[/red]: {error}")
        raise typer.Exit(2) from error
    with stack:
        yield client


def load_on_cluster(client: Client, history: str, skip_invalid: bool) -> PartitionedHistory:
    """A history loaded and validated on the cluster's workers (a folder or URL of Parquet
    datasets), its report printed."""
    from features.partitioned import load_partitioned

    try:
        with console.status(f"Loading and validating {history} on the cluster ..."):
            loaded = load_partitioned(client, history, skip_invalid=skip_invalid)
    except HistoryError as error:
        console.print(f"[red]Invalid history[/red]: {error}")
        raise typer.Exit(2) from error
    print_report(loaded.report)
    return loaded


def print_report(report: LoadReport) -> None:
    table = Table(title=f"History {report.folder}", show_lines=False)
    for column in ("table", "file", "rows read", "rows kept"):
        table.add_column(column, justify="right" if column.startswith("rows") else "left")
    for name, path in report.files.items():
        table.add_row(name, path.name, f"{report.rows_read[name]:,}", f"{report.rows_kept[name]:,}")
    console.print(table)
    for reason, count in report.skipped.items():
        if count:
            console.print(f"[yellow]skipped[/yellow] {count:,} {reason}")
    for warning in report.warnings():
        console.print(f"[yellow]warning[/yellow] {warning}")


def truth_next_to(history: Path) -> pd.DataFrame | None:
    """A simulated history's ground truth, when the simulator left one beside it."""
    path = history.parent / "ground_truth.parquet"
    return pd.read_parquet(path) if path.exists() else None


def model_from(reference: str | None) -> ClaimRiskModel | None:
    """A model from a folder path, or the registry (alias or version)."""
    from scoring.artifact import ClaimRiskModel
    from scoring.registry import get_settings, load_model

    if reference is None:
        return None
    if Path(reference).is_dir():
        return ClaimRiskModel.load(Path(reference))
    return load_model(get_settings(), reference)[0]


AsOf = Annotated[dt.datetime | None, date_option("Look as the history stood on this date.")]
