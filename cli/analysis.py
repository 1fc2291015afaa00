"""Analyst commands: the denial report, emerging patterns, live monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import AsOf, HistoryDir, app, console, day, load_checked, model_from, steps


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

    loaded = load_checked(history, False)
    chosen = model_from(model)
    with steps("Building the report") as tell:
        page = build_report(loaded, chosen, as_of=day(as_of), progress=tell)
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

    loaded = load_checked(history, False, quiet=json_out)
    alerts = find_patterns(
        loaded,
        as_of=day(as_of),
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

    loaded = load_checked(history, False, quiet=json_out)
    result = run(store, loaded, model_from(model))
    if overrides_out is not None:
        write_overrides(read_overrides(store), overrides_out)
    if json_out:
        print(result.to_json())
    else:
        console.print(result)
