"""Data commands: simulate a world, validate a history, summarise its features,
ingest X12 files into a history folder."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from cli.common import (
    Cluster,
    HistoryDir,
    HistoryPlace,
    SkipInvalid,
    app,
    console,
    date_option,
    load_checked,
    load_on_cluster,
    on_cluster,
    steps,
)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write the simulated world into.")],
    claims: Annotated[int, typer.Option(min=1000, help="Claims in the history.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    requests: Annotated[
        int,
        typer.Option(help="Claim requests after the history, at the practices' own monthly pace."),
    ] = 2000,
    fmt: Annotated[
        Literal["parquet", "csv", "partitioned"],
        typer.Option(
            "--format",
            help="partitioned: a Parquet dataset per table in month=YYYY-MM folders (--cluster).",
        ),
    ] = "parquet",
    start: Annotated[dt.datetime, date_option("First service month.")] = dt.datetime(2024, 1, 1),
    months: Annotated[int, typer.Option(min=3, help="Months of history.")] = 24,
    dialect: Annotated[
        str | None,
        typer.Option(help="A world of the zoo with other mechanisms (README: the zoo)."),
    ] = None,
) -> None:
    """Simulate a billing company's claims history with known denial causes."""
    from simulator import simulate as run
    from simulator.dialects import DEFAULT
    from simulator.zoo import world

    try:
        chosen = DEFAULT if dialect is None else world(dialect)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="--dialect") from error
    with console.status("Simulating ...") as status:
        summary = run(
            out,
            claims,
            seed,
            requests=requests,
            fmt=fmt,
            start=start.date(),
            months=months,
            progress=lambda step: status.update(f"Simulating: {step}"),
            dialect=chosen,
        )
    console.print(summary)
    console.print(f"Wrote {out}/history, {out}/requests.jsonl and {out}/ground_truth.parquet")


@app.command()
def validate(history: HistoryDir, skip_invalid: SkipInvalid = False) -> None:
    """Validate a history folder against the data contract and report what it holds."""
    loaded = load_checked(history, skip_invalid)
    labels = loaded.labels.labels
    if not len(labels):
        console.print(
            f"[yellow]Valid, but nothing to learn from[/yellow]: {len(loaded.claims):,} claims, "
            "none adjudicated (outcomes are matched to claims by claim_id)."
        )
        return
    pending = len(loaded.claims) - len(labels)
    console.print(
        f"[green]Valid.[/green] {len(loaded.claims):,} claims, {len(labels):,} adjudicated "
        f"({labels['denied'].mean():.1%} denied first pass), {pending:,} pending."
    )


@app.command()
def features(
    history: HistoryPlace,
    skip_invalid: SkipInvalid = False,
    out: Annotated[
        str | None,
        typer.Option(
            help="Write the feature matrix here (.parquet; with --cluster a folder or URL of "
            "part-NNNNN.parquet files, one per member group)."
        ),
    ] = None,
    cluster: Cluster = None,
) -> None:
    """Fit the feature state on a history and print a per-feature summary."""
    from features.batch import batch_from_history
    from features.facts import build_facts
    from features.pipeline import compute_features, fit_state, outcomes_for
    from features.summary import feature_summary

    if cluster is not None:
        _features_on_cluster(cluster, history, skip_invalid, out)
        return
    loaded = load_checked(Path(history), skip_invalid)
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


def _features_on_cluster(cluster: str, history: str, skip_invalid: bool, out: str | None) -> None:
    from features.distributed import features_on_cluster
    from features.summary import feature_summary

    with on_cluster(cluster) as client:
        loaded = load_on_cluster(client, history, skip_invalid)
        started = time.perf_counter()
        with console.status("Computing features on the cluster ..."):
            run = features_on_cluster(loaded, out)
        elapsed = time.perf_counter() - started
    _print_summary(feature_summary(run.sample, run.denied))
    console.print(
        f"{run.claims:,} claims x {run.sample.shape[1]} features in {elapsed:.1f} s "
        f"({run.claims / elapsed:,.0f} claims/s); summary of a sample of {len(run.sample):,}"
    )
    if out is not None:
        console.print(f"Wrote {out.rstrip('/')}/part-*.parquet")


def _print_summary(summary: pd.DataFrame) -> None:
    table = Table(title="Features (denial rate where the feature is non-zero vs zero)")
    for column in summary.columns:
        table.add_column(column, justify="left" if column in ("feature", "category") else "right")
    for row in summary.itertuples(index=False):
        table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


@app.command()
def ingest(
    claims_837: Annotated[
        list[Path] | None, typer.Option("--claims-837", help="837P claim files.")
    ] = None,
    remits_835: Annotated[
        list[Path] | None, typer.Option("--remits-835", help="835 remittance files.")
    ] = None,
    eligibility_271: Annotated[
        list[Path] | None,
        typer.Option("--eligibility-271", help="271 eligibility responses (eligibility_checks)."),
    ] = None,
    auths_278: Annotated[
        list[Path] | None,
        typer.Option("--auths-278", help="278 services review responses (authorizations)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="History folder to write.")] = Path("history"),
    append: Annotated[bool, typer.Option(help="Add to an existing history folder.")] = False,
) -> None:
    """Convert X12 837P claims, 835 remittances, 271 eligibility and 278 authorization
    responses into a history folder (idempotent)."""
    from features.x12 import IngestError
    from features.x12 import ingest as run

    try:
        with steps("Ingesting X12") as tell:
            report = run(
                list(claims_837 or []),
                list(remits_835 or []),
                out,
                append=append,
                eligibility_271=list(eligibility_271 or []),
                auths_278=list(auths_278 or []),
                progress=tell,
            )
    except IngestError as error:
        console.print(f"[red]Cannot ingest[/red]: {error}")
        raise typer.Exit(2) from error
    console.print(report.render())
    if report.all_failed:
        console.print("[red]No file could be ingested[/red]: see the failures above")
        raise typer.Exit(1)
