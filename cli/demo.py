"""The main job on embedded defaults: simulate, summarise, train, promote, then serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import app
from cli.data import features, simulate
from cli.model import promote, train
from cli.service import key_store, serve


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
    features(history=str(history))
    train(history=str(history))
    promote(history=str(history))
    store = key_store(None)
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
