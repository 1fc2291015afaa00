"""Quick resubmissions sent one call at a time: how many the API names as duplicates.

The zoo's ``quick_duplicates`` world: billers resubmit 2.5% of claims one to three days after
the first copy, whose first copy is often another recent request (not yet in the history).
Train on its history, serve the model with the real app (in process), and send every request
one ``POST /v1/claims/score`` at a time in submission order: once with
``remember_scored`` off (each call scored against the history alone, as before) and once on
(claims scored before are found in the prediction store). For the requests the payer denied
as duplicates (ground truth), print how many got *duplicate* as their top reason and among
their reasons; for the other requests, how many got it as their top reason (and how many of
those are resubmissions of an earlier request the payer did not deny as duplicates);
and the AUC of the denial probability for duplicate denials against all other requests.

Run: python -m benchmarks.duplicates [--claims 12000] [--requests 2500] [--seed 21]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from sklearn.metrics import roc_auc_score

from features.history import load_history
from serving.app import create_app
from serving.settings import ServeSettings
from simulator import simulate
from simulator.zoo import WORLDS
from training.train import train


def _send(settings: ServeSettings, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with TestClient(create_app(settings)) as client:
        results = []
        for claim in requests:
            response = client.post("/v1/claims/score", json=claim)
            response.raise_for_status()
            results.append(response.json())
            # one call at a time, as a PM system checks claims: each is recorded before the
            # next (minutes apart in practice; here the writer is waited for)
            client.app.state.services.predictions.flush()  # type: ignore[attr-defined]
    return results


def _resubmitted(requests: list[dict[str, Any]]) -> np.ndarray:
    """Requests with a line of the same patient, service date and code as an earlier-dated
    request: resubmissions, whatever the payer said."""
    first: dict[tuple[str, str, str], str] = {}
    found = []
    for claim in requests:
        keys = [
            (claim["patient_id"], line.get("service_date") or claim["service_date"],
             line["procedure_code"])
            for line in claim["lines"]
        ]  # fmt: skip
        found.append(any(first.get(k, claim["submission_date"]) < claim["submission_date"]
                         for k in keys))  # fmt: skip
        for k in keys:
            first.setdefault(k, claim["submission_date"])
    return np.array(found)


def _figures(
    results: list[dict[str, Any]], duplicate: np.ndarray, resubmitted: np.ndarray
) -> dict[str, float]:
    cats = [[r["category"] for r in s["reasons"] or []] for s in results]
    top = np.array([bool(c) and c[0] == "duplicate" for c in cats])
    named = np.array(["duplicate" in c for c in cats])
    risk = np.array([s["denial_probability"] for s in results])
    return {
        "top": int(top[duplicate].sum()),
        "named": int(named[duplicate].sum()),
        "false_top": int(top[~duplicate].sum()),
        "false_top_resubmitted": int(top[~duplicate & resubmitted].sum()),
        "auc": float(roc_auc_score(duplicate, risk)),
        "mean_risk": float(risk[duplicate].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=12_000)
    parser.add_argument("--requests", type=int, default=2_500)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimrisk-dup-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        simulate(
            folder / "world",
            args.claims,
            args.seed,
            requests=args.requests,
            dialect=WORLDS["quick_duplicates"],
        )
        truth = pd.read_parquet(folder / "world" / "ground_truth.parquet")
        model = train(load_history(folder / "world" / "history"), truth=truth).model
        model_dir = model.save(folder / "model")
        lines = (folder / "world" / "requests.jsonl").read_text().splitlines()
        requests = sorted((json.loads(line) for line in lines), key=lambda c: c["submission_date"])
        truth = truth.set_index("claim_id").reindex([c["claim_id"] for c in requests])
        duplicate = (
            truth["denied"].astype(bool) & (truth["true_category"] == "duplicate")
        ).to_numpy()
        resubmitted = _resubmitted(requests)
        print(
            f"world quick_duplicates: {args.claims:,} history claims, {len(requests):,} requests, "
            f"{int(duplicate.sum())} denied as duplicates, {int(resubmitted.sum())} resubmissions "
            f"of an earlier request; ready in "
            f"{time.perf_counter() - started:.0f} s"
        )
        for remember in (False, True):
            store = folder / f"predictions-{remember}.db"
            settings = ServeSettings(
                model=str(model_dir),
                allow_anonymous=True,
                api_keys_file=folder / "keys.json",
                prediction_store=store,
                queue_store=None,
                state_file=folder / f"state-{remember}.db",
                batch_processes=0,
                remember_scored=remember,
            )
            began = time.perf_counter()
            figures = _figures(_send(settings, requests), duplicate, resubmitted)
            n = int(duplicate.sum())
            print(
                f"remember_scored={remember!s:5}: duplicate denials with duplicate as top reason "
                f"{figures['top']}/{n}, among the reasons {figures['named']}/{n}; other requests "
                f"with duplicate as top reason {figures['false_top']}/{len(requests) - n} "
                f"({figures['false_top_resubmitted']} of them resubmissions of an earlier "
                f"request); "
                f"AUC duplicate denials vs the rest {figures['auc']:.3f}; their mean denial "
                f"probability {figures['mean_risk']:.2f} ({time.perf_counter() - began:.0f} s)"
            )


if __name__ == "__main__":
    main()
