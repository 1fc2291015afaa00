"""Model commands: train, promote through the gate, export a registered model, backtest."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from cli.common import (
    Cluster,
    HistoryPlace,
    SkipInvalid,
    app,
    console,
    date_option,
    day,
    load_checked,
    load_on_cluster,
    on_cluster,
    steps,
    truth_next_to,
)

if TYPE_CHECKING:
    from training.train import TrainResult


@app.command()
def train(
    history: HistoryPlace,
    until: Annotated[
        dt.datetime | None, date_option("Train on what was known on this date.")
    ] = None,
    no_refit: Annotated[
        bool, typer.Option("--no-refit", help="Register the evaluation model, not a refit.")
    ] = False,
    skip_invalid: SkipInvalid = False,
    overrides: Annotated[
        Path | None,
        typer.Option(help="Billers' overrides (`monitor --overrides-out`): reported and logged."),
    ] = None,
    cluster: Cluster = None,
) -> None:
    """Train, calibrate and evaluate on a time split; register the model as challenger."""
    from analytics.overrides import (
        OverridesFileError,
        override_metrics,
        override_outcomes,
        overrides_table,
        read_overrides_file,
    )
    from scoring.registry import get_settings
    from training.tracking import log_training_run

    if overrides is not None and cluster is not None:
        raise typer.BadParameter(
            "the overrides are matched with a history loaded in one process; train without "
            "--cluster to report them",
            param_hint="--overrides",
        )
    try:
        disputes = None if overrides is None else read_overrides_file(overrides)
    except OverridesFileError as error:
        console.print(f"[red]Cannot train[/red]: {error}")
        raise typer.Exit(2) from error
    with ExitStack() as stack:  # the cluster, if any, until the run is logged
        run: Callable[..., TrainResult]
        if cluster is None:
            from training.train import train

            loaded: Any = load_checked(Path(history), skip_invalid)
            run = train
        else:
            from training.distributed import train_distributed

            client = stack.enter_context(on_cluster(cluster))
            loaded = load_on_cluster(client, history, skip_invalid)
            run = train_distributed
        disputed = None if disputes is None else override_outcomes(disputes, loaded)
        started = time.perf_counter()
        result = _train(run, loaded, day(until), not no_refit, truth_next_to(Path(history)))
        if disputed is not None:
            result.metrics.update(override_metrics(disputed))
        with console.status("Logging the run and registering the model in MLflow ..."):
            run_id, version = log_training_run(
                result,
                loaded,
                get_settings(),
                {"history": history, "until": str(day(until) or "")},
            )
    _print_metrics(result.metrics)
    if disputed is not None:
        console.print(overrides_table(disputed, "Billers' overrides, against the outcomes"))
    console.print(
        f"Trained in {time.perf_counter() - started:.0f} s. MLflow run {run_id}; registered "
        f"{get_settings().model_name} version {version} as [bold]challenger[/bold]."
    )


def _train(
    run: Callable[..., TrainResult],
    loaded: Any,
    until: dt.date | None,
    refit: bool,
    truth: pd.DataFrame | None,
) -> TrainResult:
    """``run`` (in one process or on a cluster) with a progress bar; a history too small to
    split is a clear error."""
    from training.dataset import TooFewClaims

    try:
        with steps("Training") as tell:
            return run(loaded, until=until, refit=refit, truth=truth, progress=tell)
    except TooFewClaims as error:
        known = f" known on {until}" if until else ""
        console.print(f"[red]Cannot train[/red] on the claims{known}: {error}")
        raise typer.Exit(2) from error


def _print_metrics(metrics: dict[str, float]) -> None:
    table = Table(title="Test window")
    columns = ("model", "ROC AUC", "PR AUC", "recall@90% prec.", "recall@95% prec.", "Brier", "ECE")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for prefix in ("lgbm", "logistic", "prior"):
        table.add_row(
            prefix,
            *(
                f"{metrics[f'{prefix}_{name}']:.4f}"
                for name in (
                    "roc_auc",
                    "pr_auc",
                    "recall_at_90_precision",
                    "recall_at_95_precision",
                    "brier",
                    "ece",
                )
            ),
        )
    console.print(table)
    recall = ", ".join(
        f"{name.removeprefix('recall_')} {value:.2f}"
        for name, value in metrics.items()
        if name.startswith("recall_") and not name.startswith("recall_at")
    )
    console.print(f"Top reason names the denial category: {recall}")
    if "oracle_roc_auc" in metrics:
        console.print(
            f"Oracle AUC {metrics['oracle_roc_auc']:.4f}; model/oracle "
            f"{metrics['auc_ratio_to_oracle']:.3f}; single-cause denials whose top reason is "
            f"the true cause: {metrics['single_cause_top_reason_hit']:.1%}"
        )


@app.command()
def promote(
    history: Annotated[
        str | None,
        typer.Option(
            help="History holding the challenger's test claims (with --cluster, a folder or URL "
            "of Parquet datasets)."
        ),
    ] = None,
    cluster: Cluster = None,
) -> None:
    """Move the champion alias to the challenger if it passes the gate."""
    from scoring.registry import get_settings
    from training.promotion import promote as run

    with ExitStack() as stack:
        loaded: Any = None
        if history is not None and cluster is None:
            loaded = load_checked(Path(history), False, quiet=True)
        elif history is not None and cluster is not None:
            loaded = load_on_cluster(stack.enter_context(on_cluster(cluster)), history, False)
        with console.status("Comparing the challenger with the champion ..."):
            try:
                result = run(get_settings(), loaded)
            except (LookupError, ValueError) as error:  # no challenger; no or the wrong history
                console.print(f"[red]Cannot promote[/red]: {error}")
                raise typer.Exit(2) from error
    colour = {"ok": "[green]", "FAIL": "[red]"}
    for reason in result.reasons:
        console.print(colour.get(reason.split(":")[0], "") + reason, highlight=False)
    if result.passed:
        console.print(f"[green]Promoted[/green] version {result.challenger} to champion.")
    else:
        console.print(f"[red]Not promoted[/red]: champion stays {result.champion}.")
        raise typer.Exit(1)


@app.command()
def export(
    model: Annotated[str, typer.Option(help="Registry alias or version.")] = "champion",
    out: Annotated[
        Path | None, typer.Option(help="Folder to write (default: models/claimrisk-vN).")
    ] = None,
) -> None:
    """Copy a registered model into a self-contained folder: serve or score it without MLflow."""
    from mlflow.exceptions import MlflowException

    from scoring.registry import get_settings, load_model

    try:
        loaded, version = load_model(get_settings(), model)
    except (LookupError, MlflowException) as error:
        console.print(f"[red]Cannot export {model!r}[/red]: {error}")
        raise typer.Exit(2) from error
    folder = out or Path("models") / f"{get_settings().model_name}-v{version}"
    if folder.exists():
        raise typer.BadParameter(f"{folder} already exists", param_hint="--out")
    loaded.save(folder)
    console.print(f"Wrote version {version} to {folder}: `claimrisk serve --model {folder}`")


def _period(every: str) -> str:
    from training.backtest import period_frequency

    try:
        period_frequency(every)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    return every


@app.command()
def backtest(
    history: HistoryPlace,
    every: Annotated[
        str, typer.Option(help="Retrain period: 1M, 2W, 10D ...", callback=_period)
    ] = "1M",
    cluster: Cluster = None,
) -> None:
    """Rolling retrain-and-score over the history; per-period AUC and policy-change recovery."""
    import json

    from training.backtest import BacktestResult, Segment

    world = Path(history).parent / "world.json"  # a simulated world's, when local
    segment = None
    if world.exists():
        change = json.loads(world.read_text())["policy_changes"][0]
        segment = Segment(
            change["payer_id"], change["procedure_code"], pd.Timestamp(change["effective"])
        )
    with ExitStack() as stack:
        run: Callable[..., BacktestResult]
        if cluster is None:
            from training.backtest import backtest as in_one_process

            loaded: Any = load_checked(Path(history), False)
            run = in_one_process
        else:
            from training.distributed_backtest import backtest_distributed

            run = backtest_distributed
            loaded = load_on_cluster(stack.enter_context(on_cluster(cluster)), history, False)
        with steps("Backtest") as tell:
            result = run(loaded, every=every, segment=segment, progress=tell)
    console.print(result.periods.to_string(index=False))
    if result.segment_weeks is not None and segment is not None:
        console.print(
            f"Policy change: payer {segment.payer_id} requires authorization for "
            f"{segment.procedure_code} from {segment.since.date()}"
        )
        console.print(result.segment_weeks.to_string(index=False))
        console.print(
            "Weeks until the model learned it (its denied claims there average a predicted "
            f"probability of at least 0.5): {result.recovery_weeks}"
        )
