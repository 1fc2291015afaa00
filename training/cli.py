"""The one command line of claimrisk: a subcommand per job."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

import numpy as np
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
    from scoring.artifact import ClaimRiskModel
    from scoring.scorer import Scorer
    from serving.keys import KeyStore

app = typer.Typer(
    help="claimrisk: predict medical claim denials before submission, and say why.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
# Piped into a file or a CI log, tables are not cut at 80 columns (rich's default there).
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)
# MLflow's start-up notices and progress bars are not for claimrisk's users; its errors still show.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@contextmanager
def _steps(title: str) -> Iterator[Callable[[str, int, int], None]]:
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
SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="Drop invalid rows (counted and reported) instead of failing."
    ),
]


def _date_option(help: str) -> Any:
    """A YYYY-MM-DD option: typer parses it and names the option when it is not a date."""
    return typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help=help)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _load(history: Path, skip_invalid: bool, quiet: bool = False) -> History:
    try:
        with console.status(f"Loading and validating {history} ..."):
            loaded = load_history(history, skip_invalid=skip_invalid)
    except HistoryError as error:
        console.print(f"[red]Invalid history[/red]: {error}")
        raise typer.Exit(2) from error
    if not quiet:
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
    fmt: Annotated[Literal["parquet", "csv"], typer.Option("--format")] = "parquet",
    start: Annotated[dt.datetime, _date_option("First service month.")] = dt.datetime(2024, 1, 1),
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
    loaded = _load(history, skip_invalid)
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


def _print_summary(summary: pd.DataFrame) -> None:
    table = Table(title="Features (denial rate where the feature is non-zero vs zero)")
    for column in summary.columns:
        table.add_column(column, justify="left" if column in ("feature", "category") else "right")
    for row in summary.itertuples(index=False):
        table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def _truth_next_to(history: Path) -> pd.DataFrame | None:
    """A simulated history's ground truth, when the simulator left one beside it."""
    path = history.parent / "ground_truth.parquet"
    return pd.read_parquet(path) if path.exists() else None


@app.command()
def train(
    history: HistoryDir,
    until: Annotated[
        dt.datetime | None, _date_option("Train on what was known on this date.")
    ] = None,
    no_refit: Annotated[
        bool, typer.Option("--no-refit", help="Register the evaluation model, not a refit.")
    ] = False,
    skip_invalid: SkipInvalid = False,
    overrides: Annotated[
        Path | None,
        typer.Option(help="Billers' overrides (`monitor --overrides-out`): reported and logged."),
    ] = None,
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
    from training.dataset import TooFewClaims
    from training.tracking import log_training_run
    from training.train import train as run

    try:
        disputes = None if overrides is None else read_overrides_file(overrides)
    except OverridesFileError as error:
        console.print(f"[red]Cannot train[/red]: {error}")
        raise typer.Exit(2) from error
    loaded = _load(history, skip_invalid)
    disputed = None if disputes is None else override_outcomes(disputes, loaded)
    started = time.perf_counter()
    try:
        with _steps("Training") as tell:
            result = run(
                loaded,
                until=_day(until),
                refit=not no_refit,
                truth=_truth_next_to(history),
                progress=tell,
            )
    except TooFewClaims as error:
        known = f" known on {_day(until)}" if until else ""
        console.print(f"[red]Cannot train[/red] on the claims{known}: {error}")
        raise typer.Exit(2) from error
    if disputed is not None:
        result.metrics.update(override_metrics(disputed))
    with console.status("Logging the run and registering the model in MLflow ..."):
        run_id, version = log_training_run(
            result,
            loaded,
            get_settings(),
            {"history": str(history), "until": str(_day(until) or "")},
        )
    _print_metrics(result.metrics)
    if disputed is not None:
        console.print(overrides_table(disputed, "Billers' overrides, against the outcomes"))
    console.print(
        f"Trained in {time.perf_counter() - started:.0f} s. MLflow run {run_id}; registered "
        f"{get_settings().model_name} version {version} as [bold]challenger[/bold]."
    )


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
        Path | None, typer.Option(help="History holding the challenger's test claims.")
    ] = None,
) -> None:
    """Move the champion alias to the challenger if it passes the gate."""
    from scoring.registry import get_settings
    from training.promotion import promote as run

    loaded = _load(history, False, quiet=True) if history is not None else None
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
    history: HistoryDir,
    every: Annotated[
        str, typer.Option(help="Retrain period: 1M, 2W, 10D ...", callback=_period)
    ] = "1M",
) -> None:
    """Rolling retrain-and-score over the history; per-period AUC and policy-change recovery."""
    import json

    from training.backtest import Segment
    from training.backtest import backtest as run

    loaded = _load(history, False)
    world = history.parent / "world.json"
    segment = None
    if world.exists():
        change = json.loads(world.read_text())["policy_changes"][0]
        segment = Segment(
            change["payer_id"], change["procedure_code"], pd.Timestamp(change["effective"])
        )
    with _steps("Backtest") as tell:
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


keys_app = typer.Typer(help="Manage API keys (only their hashes are stored).")
app.add_typer(keys_app, name="keys")
KeysFile = Annotated[
    Path | None, typer.Option("--file", help="Key file (default: CLAIMRISK_SERVE_API_KEYS_FILE).")
]


def _key_store(file: Path | None) -> KeyStore:
    from serving.keys import KeyStore
    from serving.settings import get_serve_settings

    return KeyStore(file or get_serve_settings().api_keys_file)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who the key is for (a PM system, a biller).")],
    admin: Annotated[bool, typer.Option(help="May reload the model.")] = False,
    file: KeysFile = None,
) -> None:
    """Create a key and print it once."""
    stored, key = _key_store(file).create(name, "admin" if admin else "client")
    console.print(f"key id {stored.key_id} ({stored.role}) for {name}:")
    print(key)


@keys_app.command("list")
def keys_list(file: KeysFile = None) -> None:
    """List keys (ids, names, roles; never the keys)."""
    for stored in _key_store(file).stored():
        console.print(f"{stored.key_id}  {stored.role:6}  {stored.created}  {stored.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, file: KeysFile = None) -> None:
    """Revoke a key by id."""
    if not _key_store(file).revoke(key_id):
        console.print(f"[red]no key {key_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes; one per core is best.")] = 1,
    model: Annotated[
        str | None, typer.Option(help="Registry alias, version, or model folder.")
    ] = None,
) -> None:
    """Start the scoring API with uvicorn (SIGHUP reloads the model in every worker)."""
    from serving.keys import KeyStore
    from serving.runner import run
    from serving.settings import ServeSettings

    if model is not None:
        os.environ["CLAIMRISK_SERVE_MODEL"] = model
    settings = ServeSettings()
    if not settings.allow_anonymous and not KeyStore(settings.api_keys_file).stored():
        console.print(
            f"[yellow]No API keys in {settings.api_keys_file}[/yellow]: every call will get 401. "
            "Create one with `claimrisk keys create NAME` (it takes effect at once)."
        )
    run(host, port, workers)


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
        with _steps("Ingesting X12") as tell:
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


@app.command()
def score(
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Claim requests (JSON lines) or an X12 837P file (271 / 278 inside allowed).",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", dir_okay=False, help="Scores, one JSON per line (written when all scored)."
        ),
    ],
    context: Annotated[
        list[Path] | None,
        typer.Option(
            "--context",
            exists=True,
            dir_okay=False,
            help="271 eligibility or 278 authorization responses for an 837P input (repeat).",
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="Registry alias, version, or model folder.")] = (
        "champion"
    ),
    reasons: Annotated[
        Literal["all", "medium", "high", "none"],
        typer.Option(help="Explain every claim, those at or above a band, or none."),
    ] = "all",
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="Claims scored per batch.")] = 5000,
) -> None:
    """Score a file offline with the same code as the API; JSON lines or 837P by content."""
    from features.x12 import UnsupportedTransaction, X12Error, decode, sniff
    from serving.holder import loader_for
    from serving.settings import ServeSettings
    from serving.x12 import score_837p

    if not output.parent.is_dir() or not os.access(output.parent, os.W_OK):
        raise typer.BadParameter(f"cannot write into {output.parent}", param_hint="--output")
    text = decode(input.read_bytes())
    kind = sniff(text)
    if kind not in ("jsonl", "837P", "271", "278"):
        console.print(f"[red]{input.name}[/red]: not JSON lines or an 837P ({kind})")
        raise typer.Exit(2)
    if context and kind == "jsonl":
        raise typer.BadParameter("context files go with an 837P input", param_hint="--context")
    text = "\n".join([text, *(decode(path.read_bytes()) for path in context or [])])
    try:
        scorer = loader_for(ServeSettings(model=model))()
    except Exception as error:
        console.print(f"[red]Cannot load model {model!r}[/red]: {type(error).__name__}: {error}")
        raise typer.Exit(2) from error
    partial = output.with_name(f".{output.name}.partial")  # an earlier output survives a failure
    try:
        with partial.open("w") as out, console.status("Scoring ..."):
            if kind != "jsonl":
                try:
                    results, found = score_837p(scorer, text, input.name, reasons)
                except (X12Error, UnsupportedTransaction) as error:
                    console.print(f"[red]{error}[/red]")
                    raise typer.Exit(2) from error
                written = sum(r.result is not None for r in results)
                out.writelines(r.model_dump_json() + "\n" for r in results)
                if written < len(results):
                    console.print(f"{len(results) - written:,} claims not scored: see 'problem'")
                if found is not None:
                    console.print(
                        f"Context: {found.eligibility_checks:,} eligibility checks, "
                        f"{found.authorizations:,} authorizations"
                    )
                    for problem in found.problems[:20]:
                        console.print(f"[yellow]context not read[/yellow]: {problem}")
            else:
                written = _score_jsonl(scorer, input, text.split("\n"), out, reasons, chunk)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"Scored {written:,} claims with model version {scorer.version} -> {output}")


def _score_jsonl(scorer: Scorer, input: Path, lines: list[str], out: TextIO, reasons: str,
                 chunk: int) -> int:  # fmt: skip
    """One output line per input claim: its score, or (with ``problems``) why it was not
    scored. Returns the number scored."""
    from features.contract import ClaimProblem
    from features.uploads import parse_upload
    from scoring.scorer import score_in_place

    written = unread = 0
    for start in range(0, len(lines), chunk):
        text = "\n".join(lines[start : start + chunk])
        if not text.strip():  # e.g. the empty line after the last newline
            continue
        items = parse_upload(text, "jsonl")  # at most --chunk lines: only claims can be bad
        answers, scored, _ = score_in_place(scorer, items, reasons)
        for answer in answers:
            if isinstance(answer, ClaimProblem):
                answer = answer.model_copy(update={"line": (answer.line or 0) + start})
                unread += 1
            out.write(answer.model_dump_json() + "\n")
        written += len(scored)
    if unread:
        console.print(
            f"[yellow]{unread:,} claims not scored[/yellow] ({input.name}): see 'problems' "
            "in their output lines"
        )
    return written


def _model_from(reference: str | None) -> ClaimRiskModel | None:
    """A model from a folder path, or the registry (alias or version)."""
    from scoring.artifact import ClaimRiskModel
    from scoring.registry import get_settings, load_model

    if reference is None:
        return None
    if Path(reference).is_dir():
        return ClaimRiskModel.load(Path(reference))
    return load_model(get_settings(), reference)[0]


AsOf = Annotated[dt.datetime | None, _date_option("Look as the history stood on this date.")]


@app.command()
def report(
    history: HistoryDir,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    model: Annotated[
        str | None, typer.Option(help="Alias, version or folder: adds explanations.")
    ] = None,
    as_of: AsOf = None,
) -> None:
    """A self-contained HTML denial report for analysts; emerging patterns first."""
    from analytics.report import build_report

    loaded = _load(history, False)
    chosen = _model_from(model)
    with _steps("Building the report") as tell:
        page = build_report(loaded, chosen, as_of=_day(as_of), progress=tell)
    out.write_text(page)
    console.print(f"Wrote {out}")


@app.command()
def patterns(
    history: HistoryDir,
    as_of: AsOf = None,
    window: Annotated[int, typer.Option(help="Recent window in days.")] = 28,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Emerging denial patterns: payer x code (or category, provider) rates that jumped."""
    from analytics.patterns import find_patterns
    from analytics.render import patterns_json, patterns_table

    loaded = _load(history, False, quiet=json_out)
    alerts = find_patterns(
        loaded,
        as_of=_day(as_of),
        window_days=window,
    )
    if json_out:
        print(patterns_json(alerts))
    else:
        console.print(patterns_table(alerts))


@app.command()
def monitor(
    history: HistoryDir,
    store: Annotated[Path, typer.Option(help="The API's prediction store.")] = Path(
        "predictions.db"
    ),
    model: Annotated[
        str | None, typer.Option(help="Alias, version or folder: adds input drift.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    overrides_out: Annotated[
        Path | None,
        typer.Option(help="Write the billers' overrides as CSV, for `train --overrides`."),
    ] = None,
) -> None:
    """Live accuracy of recorded predictions against the outcomes ingested since."""
    from analytics.monitor import monitor as run
    from analytics.overrides import write_overrides
    from analytics.recorded import read_overrides

    loaded = _load(history, False, quiet=json_out)
    result = run(store, loaded, _model_from(model))
    if overrides_out is not None:
        write_overrides(read_overrides(store), overrides_out)
    if json_out:
        print(result.to_json())
    else:
        console.print(result)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo world goes.")] = Path(
        "demo-data"
    ),
    claims: Annotated[int, typer.Option(help="Claims to simulate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    port: Annotated[int, typer.Option(help="Port of the API at the end.")] = 8000,
) -> None:
    """The main job on embedded defaults: simulate, summarise, train, promote, then serve."""
    from serving.settings import get_serve_settings

    history = directory / "history"
    simulate(out=directory, claims=claims, seed=seed)
    features(history=history)
    train(history=history)
    promote(history=history)
    store = _key_store(None)
    _, key = store.create("demo")
    example = directory / "claim.json"
    example.write_text((directory / "requests.jsonl").read_text().splitlines()[0])
    # Plain print: a terminal-width wrap would break the command in the middle.
    print(
        "\nThe API is starting. Score a claim with reasons:\n\n"
        f"  curl -s -X POST http://127.0.0.1:{port}/v1/claims/score \\\n"
        f"    -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\\n"
        f"    --data @{example}\n\n"
        f"The biller's work queue: http://127.0.0.1:{port}/ (key above, file "
        f"{directory / 'requests.jsonl'}).\nAPI docs: http://127.0.0.1:{port}/docs "
        f"(key file {get_serve_settings().api_keys_file}; Ctrl-C stops the server)\n",
        flush=True,
    )
    serve(port=port)


if __name__ == "__main__":
    app()
