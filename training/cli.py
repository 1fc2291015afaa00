"""The one command line of claimrisk: a subcommand per job."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from features.history import HistoryError, LoadReport, load_history

app = typer.Typer(
    help="claimrisk: predict medical claim denials before submission, and say why.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()

HistoryDir = Annotated[
    Path, typer.Option("--history", help="History folder: one CSV or Parquet file per table.")
]
SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="Drop invalid rows (counted and reported) instead of failing."
    ),
]


def _load(history: Path, skip_invalid: bool):  # type: ignore[no-untyped-def]
    try:
        with console.status(f"Loading and validating {history} ..."):
            loaded = load_history(history, skip_invalid=skip_invalid)
    except HistoryError as error:
        console.print(f"[red]Invalid history[/red]: {error}")
        raise typer.Exit(2) from error
    _print_report(loaded.report)
    return loaded


def _print_report(report: LoadReport) -> None:
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


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write the simulated world into.")],
    claims: Annotated[int, typer.Option(min=1000, help="Claims in the history.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    requests: Annotated[int, typer.Option(help="Claim requests for the month after.")] = 2000,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    start: Annotated[str, typer.Option(help="First service month, YYYY-MM-DD.")] = "2024-01-01",
    months: Annotated[int, typer.Option(min=3, help="Months of history.")] = 24,
) -> None:
    """Simulate a billing company's claims history with known denial causes."""
    from training.simulator import simulate as run

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    with console.status("Simulating ...") as status:
        summary = run(
            out,
            claims,
            seed,
            requests=requests,
            fmt=fmt,  # type: ignore[arg-type]
            start=dt.date.fromisoformat(start),
            months=months,
            progress=lambda step: status.update(f"Simulating: {step}"),
        )
    console.print(summary.render())
    console.print(f"Wrote {out}/history, {out}/requests.jsonl and {out}/ground_truth.parquet")


@app.command()
def validate(history: HistoryDir, skip_invalid: SkipInvalid = False) -> None:
    """Validate a history folder against the data contract and report what it holds."""
    loaded = _load(history, skip_invalid)
    labels = loaded.labels.labels
    denied = labels["denied"].mean() if len(labels) else float("nan")
    pending = len(loaded.claims) - len(labels)
    console.print(
        f"[green]Valid.[/green] {len(loaded.claims):,} claims, {len(labels):,} adjudicated "
        f"({denied:.1%} denied first pass), {pending:,} pending."
    )


@app.command()
def features(
    history: HistoryDir,
    skip_invalid: SkipInvalid = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the feature matrix here (.parquet).")
    ] = None,
) -> None:
    """Fit the feature state on a history and print a per-feature summary."""
    from features.batch import batch_from_history
    from features.facts import build_facts
    from features.pipeline import compute_features, fit_state, outcomes_for
    from features.summary import feature_summary

    loaded = _load(history, skip_invalid)
    started = time.perf_counter()
    with console.status("Computing features ..."):
        facts = build_facts(batch_from_history(loaded))
        outcomes = outcomes_for(loaded, loaded.claims["claim_id"])
        matrix = compute_features(facts, fit_state(facts, outcomes))
    elapsed = time.perf_counter() - started
    denied = np.where(outcomes.adj_day >= 0, outcomes.denied.astype(float), np.nan)
    _print_summary(feature_summary(matrix, denied))
    console.print(
        f"{len(matrix):,} claims x {matrix.shape[1]} features in {elapsed:.1f} s "
        f"({len(matrix) / elapsed:,.0f} claims/s)"
    )
    if out is not None:
        matrix.to_parquet(out)
        console.print(f"Wrote {out}")


def _print_summary(summary) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="Features (denial rate where the feature is non-zero vs zero)")
    for column in summary.columns:
        table.add_column(column, justify="left" if column in ("feature", "category") else "right")
    for row in summary.itertuples(index=False):
        table.add_row(
            *(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row)  # type: ignore[arg-type]
        )
    console.print(table)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo world goes.")] = Path(
        "demo-data"
    ),
    claims: Annotated[int, typer.Option(help="Claims to simulate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """The main job on embedded defaults: simulate a history, then summarise its features."""
    simulate(out=directory, claims=claims, seed=seed)
    features(history=directory / "history")


if __name__ == "__main__":
    app()
