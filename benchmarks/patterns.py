"""Emerging-pattern monitor across worlds: days to flag each injected change, false alarms.

Every world is simulated, then ``patterns.sequential`` runs weekly over its history as an
online monitor would (each scan sees only outcomes adjudicated by its date), from the first
date with enough past (one window plus 90 days after the first adjudication) to the end.

The worlds: zoo worlds (``simulator.zoo``) *with* their changes (the default policy change,
plus the dialect's rule changes), and *without* (``quiet``: the same dialect with no policy
or rule change, ``Dialect(policy_change=False, rules=())``; other mechanisms such as credential
lapses stay), and the independent world (``benchmarks/independent_world``, written by another
generator; reported, never tuned to).

What the world knows it injected is the ground truth, read from the world, not from the
detector: the simulator's ``world.json`` (``policy_changes`` and the dialect's
``rule_changes``), and for the independent world its payers' ``auth_change`` (codes added to
a prior-authorization list), ``filing_change`` (a shorter filing limit) and its claims-system
glitch window. Changes that *remove* a requirement cannot raise a denial rate and are listed,
not scored.

Per world it prints:

- each injected change and its **delay**: days from the change's effective date to the first
  weekly scan alerting on one of its cells (payer x code for each code it names, or the
  payer x category cell for a payer-wide change), ``never`` if none; with ``n35``, the claims
  of those cells adjudicated in the 35 days after the start, and their true (oracle) rate then
  against the year before. A change is *too small* to be seen in time, by any test, unless that
  true rate rose by at least 1.5 points and 25% and by at least 3 expected extra denials
  (*truth unknown* for a payer-wide change in a world without per-category truth);
- **false-alarm cells**: the distinct cells with at least one alert episode that no injected
  change and no rise of the cell's own true rate explains. Precisely (``analytics.detection``):
  each alert episode (a cell's unbroken run of weekly alerts) is judged at its first scan; it
  is ``injected`` if the cell is a cell of an injected change (or the payer x category cell of
  a code change's payer and category) at or after its start, ``real rise`` if the cell's true
  (oracle) rate over the trailing 14, 28 or 56 days rose by at least 1.5 points and 25% over
  the 364 days before, ``new cell above peers`` if it has under 8 baseline claims and its
  true rate is that much above its parent's, ``unjudged`` if the world's truth has no
  per-category probabilities for a payer x category cell, else a **false alarm**. ``false/yr``
  counts the cells over the last 52 weekly scans (a year of weekly runs), ``false all`` over
  every scan.

The headline is the worst world: the longest delay of any change not too small (``never``
counts as longer than any), and the most false-alarm cells in a year.

Run: python -m benchmarks.patterns [--claims 200000] [--seed 0] [--worlds default ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.detection import (
    DetectionResult,
    PolicyChange,
    changes_from_world,
    evaluate_detection,
    true_sums,
    truly_rose,
)
from analytics.patterns import (
    DAY,
    CellCounts,
    PatternSettings,
    as_of_default,
    count_cells,
    sequential,
)
from benchmarks.independent_world import simulate as independent_simulate
from benchmarks.independent_world import write_world
from benchmarks.independent_world.adjudication import GLITCH_WINDOW
from benchmarks.independent_world.simulate import START as INDEPENDENT_START
from features.history import History, load_history
from features.rules import CARC_CATEGORY
from simulator import simulate
from simulator.dialects import DEFAULT, Dialect
from simulator.zoo import world

ZOO = (
    "default",
    "unknown_auth_rule",
    "new_limits",
    "credentialing_lapses",
    "mostly_medicare",
    "tiny_practice",
)
YEAR_SCANS = 52
EARLY_DAYS = 35
VISIBLE_DENIALS = 3.0  # expected extra denials in the first 35 days a change needs to be seen


@dataclass
class Case:
    """A simulated world, its history and what it knows it injected."""

    name: str
    history: History
    truth: pd.DataFrame
    changes: list[PolicyChange]
    not_scored: list[str]  # injected changes a rise detector cannot see (removals)


def quiet_dialect(name: str) -> Dialect:
    """The zoo world ``name`` without any policy or rule change."""
    dialect = DEFAULT if name == "default" else world(name)
    return replace(dialect, policy_change=False, rules=(), name="", description="")


def zoo_case(name: str, quiet: bool, claims: int, seed: int, folder: Path) -> Case:
    dialect = quiet_dialect(name) if quiet else DEFAULT if name == "default" else world(name)
    simulate(folder, claims, seed=seed, requests=0, dialect=dialect)
    return Case(
        name=f"{name}{' quiet' if quiet else ''}",
        history=load_history(folder / "history"),
        truth=pd.read_parquet(folder / "ground_truth.parquet"),
        changes=changes_from_world(folder / "world.json"),
        not_scored=[],
    )


def independent_changes(world_json: dict) -> tuple[list[PolicyChange], list[str]]:
    """The independent world's injected changes (from its own world.json and its generator's
    history start and glitch window), and the removals it also made."""
    changes, removals = [], []
    for payer in world_json["payers"]:
        carc = {name: codes[0] for name, codes in payer["dialect"].items()}
        if payer["auth_change"]:
            day, added, removed = payer["auth_change"]
            when = pd.Timestamp(INDEPENDENT_START) + pd.Timedelta(days=day)
            if added:
                changes.append(
                    PolicyChange(
                        payer["payer_id"],
                        tuple(added),
                        when,
                        CARC_CATEGORY[carc["auth_missing"]],
                        "prior_authorization_required",
                    )
                )
            if removed:
                removals.append(
                    f"{payer['payer_id']} x {'/'.join(removed)} auth dropped {when.date()}"
                )
        if payer["filing_change"]:
            day, _limit = payer["filing_change"]
            changes.append(
                PolicyChange(
                    payer["payer_id"],
                    (),
                    pd.Timestamp(INDEPENDENT_START) + pd.Timedelta(days=day),
                    CARC_CATEGORY[carc["timely_filing"]],
                    "filing_limit_shortened",
                )
            )
        if payer["payer_id"] == GLITCH_WINDOW[0]:
            changes.append(
                PolicyChange(
                    payer["payer_id"],
                    (),
                    pd.Timestamp(INDEPENDENT_START) + pd.Timedelta(days=GLITCH_WINDOW[1]),
                    CARC_CATEGORY[carc["payer_system_glitch"]],
                    "claims_system_glitch",
                )
            )
    return changes, removals


def independent_case(seed: int, size: str, folder: Path) -> Case:
    write_world(independent_simulate(seed, size), folder)
    changes, removals = independent_changes(json.loads((folder / "world.json").read_text()))
    truth = pd.read_parquet(folder / "ground_truth.parquet")
    return Case(
        name=f"independent {size} s{seed}",
        history=load_history(folder / "history"),
        truth=truth[truth["split"] == "history"],
        changes=changes,
        not_scored=removals,
    )


@contextmanager
def built(make: Callable[[Path], Case]) -> Iterator[Case]:
    """A world made in a temporary folder, for as long as it is measured."""
    with tempfile.TemporaryDirectory() as tmp:
        yield make(Path(tmp))


@dataclass(frozen=True)
class Early:
    """A change's cells in its first ``EARLY_DAYS`` days: claims adjudicated, and their true
    rate against the year before (what any monitor could have seen)."""

    claims: int
    true_before: float
    true_after: float

    @property
    def known(self) -> bool:
        """Whether the world's truth has the change's rates (not for a payer-wide change in
        a world without per-category probabilities)."""
        return not np.isnan(self.true_before) and not np.isnan(self.true_after)

    @property
    def too_small(self) -> bool:
        """Whether no monitor could see it in time: its true rate did not rise
        (``truly_rose``) or by fewer than ``VISIBLE_DENIALS`` expected extra denials."""
        if not self.known:
            return False
        extra = self.claims * (self.true_after - self.true_before)
        rose = truly_rose(np.array([self.true_after]), np.array([self.true_before]))[0]
        return not (rose and extra >= VISIBLE_DENIALS)

    def __str__(self) -> str:
        note = " (too small)" if self.too_small else "" if self.known else " (truth unknown)"
        return f"n35 {self.claims:4}  true {self.true_before:6.1%} -> {self.true_after:6.1%}{note}"


def early(counts: CellCounts, true_cum: np.ndarray, change: PolicyChange) -> Early:
    cells = counts.index.cells
    mine = cells["payer_id"] == change.payer_id
    if change.procedure_codes:
        codes = cells["procedure_code"].isin(change.procedure_codes)
        mine &= (cells["kind"] == "payer_code") & codes
    else:
        mine &= (cells["kind"] == "payer_category") & (cells["category"] == change.category)
    rows = mine.to_numpy()
    start = as_of_default(counts, change.effective) - DAY
    end = start + EARLY_DAYS * DAY
    before = start - 364 * DAY
    n_after = counts.window(counts.n_cum, start, end)[rows].sum()
    n_before = counts.window(counts.n_cum, before, start)[rows].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return Early(
            claims=int(n_after),
            true_before=float(counts.window(true_cum, before, start)[rows].sum() / n_before),
            true_after=float(counts.window(true_cum, start, end)[rows].sum() / n_after),
        )


@dataclass
class Measured:
    case: Case
    result: DetectionResult
    early: list[Early]
    seconds: float

    @property
    def year_since(self) -> pd.Timestamp | None:
        dates = self.result.scan_dates
        return dates[-YEAR_SCANS] if len(dates) >= YEAR_SCANS else None

    @property
    def false_year(self) -> int:
        return self.result.false_alarm_cells(self.year_since)

    @property
    def worst_delay(self) -> float | None:
        """The longest delay over the changes not too small to be seen in 35 days."""
        seen = zip(self.result.found, self.early, strict=True)
        delays = [f.delay_days for f, e in seen if not e.too_small]
        if not delays:
            return None
        return float("inf") if None in delays else float(max(d for d in delays if d is not None))


def measure(case: Case, settings: PatternSettings, every: int) -> Measured:
    began = time.perf_counter()
    counts = count_cells(case.history, settings.kinds)
    scanned = sequential(counts=counts, settings=settings, every_days=every)
    seconds = time.perf_counter() - began
    result = evaluate_detection(scanned, counts, case.truth, case.changes)
    true_cum = true_sums(counts, case.truth)
    return Measured(case, result, [early(counts, true_cum, c) for c in case.changes], seconds)


def report(m: Measured) -> None:
    r = m.result
    print(
        f"{m.case.name:<28} claims {len(m.case.history.claims):>7,}  scans {r.scans:3}  "
        f"false/yr {m.false_year:2}  false all {r.false_alarms:2}  "
        f"episodes {len(r.episodes):3}  scan {m.seconds:5.2f}s"
    )
    for found, seen in zip(r.found, m.early, strict=True):
        delay = "never" if found.delay_days is None else f"{found.delay_days} d"
        print(f"    change {found.change.label:<66} {seen}  flagged after {delay}")
    for removal in m.case.not_scored:
        print(f"    change {removal} (a removal: not scored)")
    if not m.case.changes:
        print("    no injected change")
    verdicts = r.episodes["verdict"].value_counts().to_dict() if len(r.episodes) else {}
    print(f"    episodes by verdict: {verdicts}")
    for row in r.false_alarm_episodes().itertuples():
        print(
            f"    false alarm {row.as_of.date()} {row.label}: {row.recent_denied}/"
            f"{row.recent_claims} denied (baseline {row.baseline_rate:.3f}), true rate "
            f"{row.true_baseline_rate:.3f} -> {row.true_recent_rate:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--worlds",
        nargs="*",
        default=list(ZOO),
        help="zoo worlds (none: only the independent world)",
    )
    parser.add_argument("--no-quiet", action="store_true", help="skip the worlds without change")
    parser.add_argument("--independent", default="regular", help="small, regular or none")
    parser.add_argument("--every", type=int, default=7, help="days between scans")
    parser.add_argument(
        "--budget", type=float, default=PatternSettings().false_alarms_per_year,
        help="the monitor's false alerts a year of weekly runs",
    )  # fmt: skip
    args = parser.parse_args()
    settings = PatternSettings(false_alarms_per_year=args.budget)
    jobs: list[Callable[[Path], Case]] = [
        partial(zoo_case, name, False, args.claims, args.seed) for name in args.worlds
    ]
    if args.worlds and not args.no_quiet:  # without a change: worlds alike but for rules are one
        quiet: list[tuple[Dialect, str]] = []
        for name in ["default", *args.worlds]:
            if all(quiet_dialect(name) != seen for seen, _ in quiet):
                quiet.append((quiet_dialect(name), name))
        jobs += [partial(zoo_case, name, True, args.claims, args.seed) for _, name in quiet]
    if args.independent != "none":
        jobs.append(partial(independent_case, args.seed + 1, args.independent))
    measured = []
    for job in jobs:
        with built(job) as case:
            m = measure(case, settings, args.every)
        report(m)
        measured.append(m)
    delays = [(m.worst_delay, m.case.name) for m in measured if m.worst_delay is not None]
    false = max((m.false_year, m.case.name) for m in measured)
    if delays:
        delay, where = max(delays)
        said = "never flagged" if delay == float("inf") else f"{delay:.0f} days"
        print(f"\nworst delay: {said} ({where})")
    print(f"worst false-alarm cells in a year of weekly runs: {false[0]} ({false[1]})")


if __name__ == "__main__":
    main()
