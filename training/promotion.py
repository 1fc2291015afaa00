"""The promotion gate: move ``champion`` to the challenger only if it is at least as good.

Both models are compared on claims neither trained on: the challenger's test window (the most
recent labelled window of its history, which its evaluation model never trained on), less the
claims the champion trained on. The challenger's figures there are the ones it recorded at
training time. The registered champion was usually refit on all of its history, so per claim:
if the claim is in the champion's own test window, the gate takes what the champion's
evaluation model recorded there; if it was submitted after the champion's training window, the
champion scores it now; otherwise the champion trained on it and it is left out. With fewer than
``MIN_COMPARED`` claims (or no denial) left, the gate fails. With no champion yet, the
challenger is promoted if it beats the prior: training already shipped the best model the
validation window chose (trees, or the linear model on a small history), so a practice is not
left without a model because trees lost to logistic regression; that comparison is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features.batch import ClaimBatch, batch_from_history
from features.history import History
from scoring.artifact import ClaimRiskModel
from scoring.reasons import top_reason
from scoring.registry import CHALLENGER, CHAMPION, Settings, load_model, version_for
from training.metrics import category_recall, classification_metrics
from training.tracking import run_artifact

if TYPE_CHECKING:
    from features.partitioned import PartitionedHistory

AUC_TOLERANCE = 0.005
CALIBRATION_TOLERANCE = 0.005  # ECE points
RECALL_COLLAPSE = 0.15  # a category's top-reason recall may not drop by more than this
MIN_CATEGORY_DENIALS = 30  # ... when it has at least this many denials in the window
MIN_COMPARED = 200  # claims neither model trained on, at least one of them denied
RECORDED, SCORED, SEEN = "recorded", "scored", "seen"  # where the champion's figure comes from


@dataclass
class GateResult:
    passed: bool
    challenger: str
    champion: str | None
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


def _test_predictions(version: Any) -> pd.DataFrame:
    run_id = version.tags.get("run_id") or version.run_id
    return pd.read_parquet(run_artifact(run_id, "test_predictions.parquet"))


def champion_source(
    claim_ids: pd.Series, submitted: pd.Series, recorded_ids: pd.Index, trained_until: pd.Timestamp
) -> np.ndarray:
    """Per challenger test claim, where an unbiased champion figure comes from: RECORDED by its
    evaluation model (the claim is in the champion's own test window), SCORED now (submitted
    after its training window), or nowhere: SEEN, the champion trained on it."""
    return np.select(
        [claim_ids.isin(recorded_ids).to_numpy(), (submitted > trained_until).to_numpy()],
        [RECORDED, SCORED],
        default=SEEN,
    )


def _score(model: ClaimRiskModel, batch: ClaimBatch) -> pd.DataFrame:
    x = model.features(batch).to_numpy(float)
    payers = batch.claims["payer_id"]
    categories = model.category_contributions(model.contributions(x), x, payers)
    return pd.DataFrame(
        {"probability": model.probability(x), "top_category": top_reason(categories)}
    )


def compare(
    challenger: pd.DataFrame, champion: pd.DataFrame, baselines: dict[str, float]
) -> GateResult:
    """Gate decision from both models' predictions on the same claims."""
    y = challenger["label"].to_numpy(float)
    new = classification_metrics(y, challenger["probability"].to_numpy(float))
    old = classification_metrics(y, champion["probability"].to_numpy(float))
    denied = y == 1
    truth = challenger["true_category"].to_numpy(dtype=object)[denied]
    new_recall = category_recall(truth, challenger["top_category"].to_numpy(dtype=object)[denied])
    old_recall = category_recall(truth, champion["top_category"].to_numpy(dtype=object)[denied])
    reasons, passed = [], True
    auc_drop = old["roc_auc"] - new["roc_auc"]
    ok = auc_drop <= AUC_TOLERANCE
    passed &= ok
    reasons.append(
        f"{'ok' if ok else 'FAIL'}: AUC {new['roc_auc']:.4f} vs champion "
        f"{old['roc_auc']:.4f} (may be lower by at most {AUC_TOLERANCE})"
    )
    ok = new["ece"] <= old["ece"] + CALIBRATION_TOLERANCE
    passed &= ok
    reasons.append(
        f"{'ok' if ok else 'FAIL'}: calibration error {new['ece']:.4f} vs champion {old['ece']:.4f}"
    )
    for category, recall in old_recall.items():
        count = int((truth == category).sum())
        if category == "all" or count < MIN_CATEGORY_DENIALS:
            continue
        drop = recall - new_recall.get(category, 0.0)
        if drop > RECALL_COLLAPSE:
            passed = False
            reasons.append(
                f"FAIL: {category} reason recall {new_recall.get(category, 0):.2f} "
                f"vs champion {recall:.2f} ({count} denials)"
            )
    if passed:
        reasons.append("ok: no category's reason recall collapsed")
    figures = {f"challenger_{k}": v for k, v in new.items()}
    figures |= {f"champion_{k}": v for k, v in old.items()} | baselines
    return GateResult(passed, "", None, reasons, figures)


def first_promotion(metrics: dict[str, float]) -> GateResult:
    """With no champion: the challenger must beat the prior (a constant denial rate)."""
    auc, prior, logistic = (metrics[f"{m}_roc_auc"] for m in ("lgbm", "prior", "logistic"))
    passed = auc > prior
    reasons = [
        f"{'ok' if passed else 'FAIL'}: AUC {auc:.4f} vs prior baseline {prior:.4f}",
        f"{'note' if auc < logistic else 'ok'}: AUC {auc:.4f} vs logistic baseline {logistic:.4f}",
    ]
    return GateResult(passed, "", None, reasons, dict(metrics))


def promote(settings: Settings, history: History | PartitionedHistory | None) -> GateResult:
    """Run the gate and, if it passes, move the champion alias to the challenger (a history on
    a cluster gives the gate only the challenger's test claims)."""
    challenger_version = version_for(settings, CHALLENGER)
    if challenger_version is None:
        raise LookupError(f"no {CHALLENGER} version of {settings.model_name}; train one first")
    champion_version = version_for(settings, CHAMPION)
    client = MlflowClient()
    run_id = challenger_version.tags.get("run_id") or challenger_version.run_id
    metrics = dict(client.get_run(run_id).data.metrics)
    if champion_version is None:
        result = first_promotion(metrics)
    elif champion_version.version == challenger_version.version:
        result = GateResult(False, "", None, ["challenger is already the champion"])
    else:
        if history is None:
            raise ValueError("a champion exists: give --history to compare on recent claims")
        baselines = {k: v for k, v in metrics.items() if k.startswith(("logistic_", "prior_"))}
        result = _against_champion(
            settings, challenger_version, champion_version, history, baselines
        )
    result.challenger = str(challenger_version.version)
    result.champion = str(champion_version.version) if champion_version is not None else None
    if result.passed:
        client.set_registered_model_alias(settings.model_name, CHAMPION, result.challenger)
    return result


def _against_champion(
    settings: Settings,
    challenger_version: Any,
    champion_version: Any,
    history: History | PartitionedHistory,
    baselines: dict[str, float],
) -> GateResult:
    """Compare on the challenger's test claims the champion did not train on."""
    predictions = _test_predictions(challenger_version)
    if not isinstance(history, History):
        history = history.claims_of(predictions["claim_id"])
    positions = pd.Index(history.claims["claim_id"]).get_indexer(predictions["claim_id"])
    if (positions < 0).any():
        raise ValueError("the history does not hold the challenger's test claims")
    recorded = _test_predictions(champion_version).set_index("claim_id")
    model, _ = load_model(settings, str(champion_version.version))
    trained_until = model.meta["training_window"]["to"]
    source = champion_source(
        predictions["claim_id"],
        history.claims["submission_date"].iloc[positions],
        recorded.index,
        pd.Timestamp(trained_until),
    )
    kept = source != SEEN
    denials = int(predictions["label"][kept].sum())
    if kept.sum() < MIN_COMPARED or denials == 0:
        too_few = (
            f"FAIL: the champion had not seen only {kept.sum():,} of the challenger's "
            f"{len(kept):,} test claims ({denials:,} denied); the gate needs {MIN_COMPARED:,} "
            f"with a denial among them. Retrain on a history with claims submitted after "
            f"{trained_until}, the end of the champion's training window."
        )
        return GateResult(False, "", None, [too_few])
    champion = recorded.reindex(predictions["claim_id"]).reset_index(drop=True)
    scored = source == SCORED
    if scored.any():
        now = _score(model, batch_from_history(history).take(positions[scored]))
        for column in now:
            champion.loc[scored, column] = now[column].to_numpy()
    result = compare(predictions[kept], champion[kept], baselines)
    result.reasons.insert(
        0,
        f"compared on {kept.sum():,} claims neither model trained on: "
        f"{(source == RECORDED).sum():,} from the champion's own test window, "
        f"{scored.sum():,} scored now (after its training window ending {trained_until}); "
        f"{(~kept).sum():,} left out",
    )
    return result
