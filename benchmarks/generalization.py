"""How claimrisk holds up on worlds it was not built on: the zoo, and any world folder given.

For each world: train on its history and score all its later requests as a user would
(``claimrisk train`` then ``claimrisk score``: the same library calls, without MLflow), then
compare with the ground truth. Per world: AUC, AUC / oracle AUC (the AUC of the true
probabilities), recall at 95% precision, ECE (beside the true probabilities' own ECE on the
same claims: what sampling noise alone gives), the top reason's category against the true
cause of single-cause denials (overall, per category, and for those the world made likely:
true probability at least ``LIKELY``, where the claim's facts, not chance, brought the
denial: a records request nobody answered, denied at a few percent of claims, cannot be
told from the claim), and the untuned reference
(``benchmarks.reference``) trained on the same history. The headline is the worst world.

Run: python -m benchmarks.generalization [--quick] [--world DIR ...] [--only NAME ...]
(all eleven worlds at full size take about 4 minutes on 2 cores; --quick about 2)
A world folder holds history/, requests.jsonl and ground_truth.parquet (claim_id,
true_probability, denied, true_category, n_fired), as ``claimrisk simulate`` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from benchmarks.reference import fit_reference
from features.contract import ClaimIn
from features.history import load_history
from scoring.scorer import Scorer
from simulator import simulate
from simulator.dialects import DEFAULT
from simulator.zoo import WORLDS
from training.dataset import TooFewClaims
from training.metrics import expected_calibration_error, recall_at_precision
from training.train import train

SEED = 21
SIZES = {"full": (20_000, 6_000), "quick": (12_000, 2_500)}  # history claims, requests
TINY_REQUESTS = 750
MIN_CATEGORY = 30  # single-cause denials a category needs for its own figure
LIKELY = 0.5  # true probability from which a denial counts as one the world made likely


@dataclass
class WorldResult:
    """The figures of one world."""

    name: str
    history_claims: int
    requests: int
    refused: int  # requests that could not be read (answered with their problem)
    auc: float
    oracle_auc: float
    reference_auc: float
    recall_at_95: float
    reference_recall_at_95: float
    ece: float
    oracle_ece: float  # the true probabilities' ECE on the same claims: the noise floor
    top_reason: float  # share of single-cause denials whose top reason is the true category
    single_cause: int
    top_reason_likely: float  # the same share among those with true probability >= LIKELY
    likely: int
    per_category: dict[str, tuple[float, int]] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""

    @property
    def of_oracle(self) -> float:
        return self.auc / self.oracle_auc

    @property
    def margin(self) -> float:
        return self.auc - self.reference_auc


def read_requests(path: Path) -> tuple[list[dict], list[ClaimIn], int]:
    """The requests a user's file holds, those claimrisk reads, and how many it cannot."""
    raw, claims, refused = [], [], 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            claims.append(ClaimIn.model_validate_json(line))
            raw.append(json.loads(line))
        except ValidationError:
            refused += 1
    return raw, claims, refused


def evaluate_world(name: str, folder: Path) -> WorldResult:
    """Train claimrisk and the reference on the world's history; score its requests."""
    started = time.perf_counter()
    truth = pd.read_parquet(folder / "ground_truth.parquet")
    history = load_history(folder / "history")
    result = train(history, truth=truth)  # as `claimrisk train` (refit on the whole history)
    scorer = Scorer(result.model, version="benchmark", source=str(folder))
    raw, claims, refused = read_requests(folder / "requests.jsonl")
    scored = scorer.score(claims)  # as `claimrisk score` (reasons for every claim)
    reference = fit_reference(folder / "history").probability(raw)

    gt = truth.set_index("claim_id").loc[[c.claim_id for c in claims]]
    y = gt["denied"].to_numpy(bool)
    p = np.array([s.denial_probability for s in scored])
    top = np.array([s.reasons[0].category if s.reasons else "" for s in scored], dtype=object)
    single = y & (gt["n_fired"].to_numpy() == 1)
    true_category = gt["true_category"].to_numpy(dtype=object)
    hits = top[single] == true_category[single]
    likely = gt["true_probability"].to_numpy()[single] >= LIKELY
    per_category = {
        str(category): (float(hits[true_category[single] == category].mean()), int(count))
        for category, count in pd.Series(true_category[single]).value_counts().items()
    }
    return WorldResult(
        name=name,
        history_claims=len(history.claims),
        requests=len(raw) + refused,
        refused=refused,
        auc=float(roc_auc_score(y, p)),
        oracle_auc=float(roc_auc_score(y, gt["true_probability"].to_numpy())),
        reference_auc=float(roc_auc_score(y, reference)),
        recall_at_95=recall_at_precision(y, p, 0.95),
        reference_recall_at_95=recall_at_precision(y, reference, 0.95),
        ece=expected_calibration_error(y, p),
        oracle_ece=expected_calibration_error(y, gt["true_probability"].to_numpy()),
        top_reason=float(hits.mean()) if len(hits) else float("nan"),
        single_cause=int(single.sum()),
        top_reason_likely=float(hits[likely].mean()) if likely.any() else float("nan"),
        likely=int(likely.sum()),
        per_category=per_category,
        seconds=time.perf_counter() - started,
    )


def zoo_world(name: str, root: Path, claims: int, requests: int, seed: int = SEED) -> Path:
    """Simulate a zoo world (or the default one) into root/name. Requests come at the world's
    own pace (the simulator spreads them over as many months as that takes: 11 for the full
    size); a world of fixed size (a tiny practice sends about 100 claims a month) gets at most
    TINY_REQUESTS requests, a year of its claims."""
    folder = root / name
    dialect = DEFAULT if name == "default" else WORLDS[name]
    if dialect.claims is not None:
        requests = min(requests, TINY_REQUESTS)
    simulate(folder, claims, seed, requests=requests, dialect=dialect)
    return folder


def table(results: Iterable[WorldResult]) -> str:
    """The per-world table (markdown), then each world's categories with enough denials."""
    rows = [
        "| world | history | requests | AUC | AUC/oracle | oracle | reference | margin "
        "| recall@95%P (ref) | ECE (oracle's) | top reason = true cause | made likely |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for r in results:
        if r.note:
            rows.append(f"| {r.name} | {r.note} ||||||||||||")
            continue
        refused = f" ({r.refused} unread)" if r.refused else ""
        rows.append(
            f"| {r.name} | {r.history_claims:,} | {r.requests:,}{refused} | {r.auc:.4f} "
            f"| {r.of_oracle:.3f} | {r.oracle_auc:.4f} | {r.reference_auc:.4f} "
            f"| {r.margin:+.4f} | {r.recall_at_95:.3f} ({r.reference_recall_at_95:.3f}) "
            f"| {r.ece:.4f} ({r.oracle_ece:.4f}) | {r.top_reason:.1%} of {r.single_cause:,} "
            f"| {r.top_reason_likely:.1%} of {r.likely:,} |"
        )
        shown = [
            f"{c} {share:.0%} of {n}" for c, (share, n) in r.per_category.items()
            if n >= MIN_CATEGORY
        ]  # fmt: skip
        if shown:
            details.append(f"- {r.name}: " + ", ".join(shown))
    heading = f"Top reason by category (single-cause denials, n >= {MIN_CATEGORY}):"
    return "\n".join([*rows, "", heading, *details])


def worst(results: list[WorldResult]) -> str:
    measured = [r for r in results if not r.note]
    if not measured:
        return "no world could be measured"
    low = min(measured, key=lambda r: r.of_oracle)
    behind = min(measured, key=lambda r: r.margin)
    return (
        f"WORST WORLD: {low.name}: AUC {low.auc:.4f} = {low.of_oracle:.3f} of its oracle "
        f"({low.oracle_auc:.4f}), reference {low.reference_auc:.4f}, top reason "
        f"{low.top_reason:.1%}; furthest behind the reference: {behind.name} "
        f"({behind.margin:+.4f})"
    )


def run(names: list[str], extra: list[Path], claims: int, requests: int, root: Path,
        seed: int = SEED) -> list[WorldResult]:  # fmt: skip
    results = []
    worlds = [(name, None) for name in names] + [(p.name, p) for p in extra]
    for name, given in worlds:
        folder = given or zoo_world(name, root, claims, requests, seed)
        try:
            result = evaluate_world(name, folder)
        except TooFewClaims as error:  # a user would be told the same by `claimrisk train`
            result = WorldResult(
                name, 0, 0, 0, *(float("nan"),) * 7, 0.0, 0, float("nan"), 0, note=str(error)
            )
        print(f"{name}: {result.seconds:.0f} s", flush=True)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller worlds (~15 min)")
    parser.add_argument("--world", type=Path, action="append", default=[],
                        help="a world folder in the simulator's format (repeatable)")  # fmt: skip
    parser.add_argument("--only", action="append", default=[], help="zoo worlds to run")
    parser.add_argument("--no-zoo", action="store_true", help="only the --world folders")
    parser.add_argument("--seed", type=int, default=SEED, help="the zoo worlds' seed")
    args = parser.parse_args()
    claims, requests = SIZES["quick" if args.quick else "full"]
    names = [] if args.no_zoo else (args.only or ["default", *WORLDS])
    with tempfile.TemporaryDirectory() as tmp:
        results = run(names, args.world, claims, requests, Path(tmp), args.seed)
    print()
    print(table(results))
    print()
    print(worst(results))


if __name__ == "__main__":
    main()
