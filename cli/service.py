"""Service commands: API keys, the API server, and offline scoring of files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer

from cli.common import Cluster, app, console, on_cluster

if TYPE_CHECKING:
    from scoring.scorer import Scorer
    from serving.keys import KeyStore


keys_app = typer.Typer(help="Manage API keys (only their hashes are stored).")


app.add_typer(keys_app, name="keys")


KeysFile = Annotated[
    Path | None, typer.Option("--file", help="Key file (default: CLAIMRISK_SERVE_API_KEYS_FILE).")
]


def key_store(file: Path | None) -> KeyStore:
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
    stored, key = key_store(file).create(name, "admin" if admin else "client")
    console.print(f"key id {stored.key_id} ({stored.role}) for {name}:")
    print(key)


@keys_app.command("list")
def keys_list(file: KeysFile = None) -> None:
    """List keys (ids, names, roles; never the keys)."""
    for stored in key_store(file).stored():
        console.print(f"{stored.key_id}  {stored.role:6}  {stored.created}  {stored.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, file: KeysFile = None) -> None:
    """Revoke a key by id."""
    if not key_store(file).revoke(key_id):
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
def score(
    input: Annotated[
        str,
        typer.Option(
            "--input",
            help="Claim requests (JSON lines) or an X12 837P file (271 / 278 inside allowed); "
            "with --cluster, a Parquet file or folder (or URL) of claim requests, one per row.",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            help="Scores, one JSON per line (written when all scored); with --cluster, a folder "
            "(or URL) of Parquet files, one per input file (file, row, claim_id, score, problem).",
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
    cluster: Cluster = None,
) -> None:
    """Score a file offline with the same code as the API; JSON lines or 837P by content."""
    from features.x12 import UnsupportedTransaction, X12Error, decode, sniff
    from serving.x12 import score_837p

    if cluster is not None:
        if context:
            raise typer.BadParameter("context files go with an 837P input", param_hint="--context")
        _score_on_cluster(cluster, input, output, model, reasons)
        return
    source, target = _existing_file(input, "--input"), Path(output)
    if target.is_dir():
        raise typer.BadParameter(f"File '{output}' is a directory.", param_hint="--output")
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise typer.BadParameter(f"cannot write into {target.parent}", param_hint="--output")
    text = decode(source.read_bytes())
    kind = sniff(text)
    if kind not in ("jsonl", "837P", "271", "278"):
        console.print(f"[red]{source.name}[/red]: not JSON lines or an 837P ({kind})")
        raise typer.Exit(2)
    if context and kind == "jsonl":
        raise typer.BadParameter("context files go with an 837P input", param_hint="--context")
    text = "\n".join([text, *(decode(path.read_bytes()) for path in context or [])])
    scorer = _scorer(model)
    partial = target.with_name(f".{target.name}.partial")  # an earlier output survives a failure
    try:
        with partial.open("w") as out, console.status("Scoring ..."):
            if kind != "jsonl":
                try:
                    results, found, _ = score_837p(scorer, text, source.name, reasons)
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
                written = _score_jsonl(scorer, source, text.split("\n"), out, reasons, chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"Scored {written:,} claims with model version {scorer.version} -> {target}")


def _existing_file(value: str, option: str) -> Path:
    """``value`` as a file that exists (typer's own words when it does not)."""
    path = Path(value)
    if not path.exists():
        raise typer.BadParameter(f"File '{value}' does not exist.", param_hint=option)
    if path.is_dir():
        raise typer.BadParameter(f"File '{value}' is a directory.", param_hint=option)
    return path


def _scorer(model: str) -> Scorer:
    from serving.holder import loader_for
    from serving.settings import ServeSettings

    try:
        return loader_for(ServeSettings(model=model))()
    except Exception as error:
        console.print(f"[red]Cannot load model {model!r}[/red]: {type(error).__name__}: {error}")
        raise typer.Exit(2) from error


def _score_on_cluster(cluster: str, input: str, output: str, model: str, reasons: str) -> None:
    """Every Parquet file of requests at ``input`` scored on the workers into ``output``."""
    from scoring.distributed import score_on_cluster

    scorer = _scorer(model)
    with on_cluster(cluster) as client, console.status("Scoring on the cluster ..."):
        try:
            files = score_on_cluster(client, scorer, input, output, reasons)
        except FileNotFoundError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from error
    problems = sum(f.problems for f in files)
    console.print(
        f"Scored {sum(f.scored for f in files):,} claims in {len(files)} file(s) with model "
        f"version {scorer.version} -> {output}"
        + (f"; {problems:,} claims not scored: see 'problem'" if problems else "")
    )


def _score_jsonl(scorer: Scorer, input: Path, lines: list[str], out: TextIO, reasons: str,
                 chunk: int) -> int:  # fmt: skip
    """One output line per input claim: its score, or (with ``problems``) why it was not
    scored. Returns the number scored."""
    from features.contract import ClaimIn, ClaimProblem
    from features.uploads import parse_upload
    from scoring.scorer import score_in_place

    written = unread = 0
    for start in range(0, len(lines), chunk):
        text = "\n".join(lines[start : start + chunk])
        if not text.strip():  # e.g. the empty line after the last newline
            continue
        items = parse_upload(text, "jsonl")  # at most --chunk lines: only claims can be bad
        answers, scored, _ = score_in_place(scorer, items, reasons)
        # A resubmission in a later chunk still sees its first copy in this one.
        scorer = scorer.remembering([item for item in items if isinstance(item, ClaimIn)])
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
