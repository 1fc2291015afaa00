"""MLflow runs: params, metrics, data fingerprint, plots and the model, registered by alias
(``scoring.registry`` finds and loads registered models).

A trained model is logged as one MLflow pyfunc model whose only artifact is the claimrisk
model folder (``scoring.artifact``); each new version gets the ``challenger`` alias and
``claimrisk promote`` moves ``champion``. Stages are not used (deprecated in MLflow).
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from features.history import History
from scoring.artifact import ClaimRiskModel
from scoring.registry import BUNDLE, CHALLENGER, Settings, use_tracking
from training.card import model_card
from training.pyfunc import (
    ClaimRiskPyfunc,
    example_claims,
    example_output,
    requirements,
    signature,
)

if TYPE_CHECKING:
    from features.partitioned import PartitionedHistory

PACKAGES = Path(__file__).resolve().parents[1]  # features/, scoring/, training/ live here


HOST_TAG, PID_TAG = "claimrisk.host", "claimrisk.pid"  # who runs a run, to close it if killed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def close_abandoned_runs(experiment_id: str) -> list[str]:
    """Mark KILLED the runs left RUNNING by a training process of this host that is gone
    (a ``train`` killed while logging); the ids of the runs closed."""
    client = MlflowClient()
    closed = []
    for run in client.search_runs([experiment_id], "attributes.status = 'RUNNING'"):
        host, pid = run.data.tags.get(HOST_TAG), run.data.tags.get(PID_TAG)
        if host == socket.gethostname() and pid and pid.isdigit() and not _alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            closed.append(run.info.run_id)
    return closed


def data_fingerprint(history: History | PartitionedHistory) -> dict[str, Any]:
    """Row counts, date range and file hashes of the history a model was trained on."""
    if not isinstance(history, History):  # on a cluster: it lists its own files
        return history.fingerprint()
    report = history.report
    return {
        "folder": str(report.folder),
        "rows": report.rows_kept,
        "skipped": dict(report.skipped),
        "missing_context": report.missing_context,
        "submission_dates": [
            str(history.claims["submission_date"].min().date()),
            str(history.claims["submission_date"].max().date()),
        ],
        "file_sha256": {
            table: hashlib.sha256(path.read_bytes()).hexdigest()
            for table, path in report.files.items()
        },
        "unlisted_carcs": dict(report.unlisted_carcs),
    }


def log_training_run(
    result: Any,
    history: History | PartitionedHistory,
    settings: Settings,
    extra_params: dict[str, Any],
) -> tuple[str, str]:
    """Log a ``TrainResult`` as a run and register its model as the challenger.

    Returns (run id, model version).
    """
    from training import plots

    experiment_id = use_tracking(settings, create=True)
    close_abandoned_runs(experiment_id)
    model: ClaimRiskModel = result.model
    y_test = result.test.label
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    with (
        mlflow.start_run(experiment_id=experiment_id, tags=tags) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        mlflow.log_params({**result.params, **extra_params, "feature_set": model.state.feature_set})
        mlflow.log_metrics(result.metrics)
        mlflow.log_metrics(
            {f"calibration_brier_{k}": v for k, v in result.calibration_brier.items()}
        )
        mlflow.log_dict(data_fingerprint(history), "data_fingerprint.json")
        x_test = result.test.features[result.test_explained]
        for path in (
            plots.calibration_plot(y_test, result.test_probability, folder / "calibration.png"),
            plots.pr_plot(y_test, {"LightGBM": result.test_probability}, folder / "pr_curve.png"),
            plots.shap_summary_by_category(
                result.test_by_category, folder / "shap_by_category.png"
            ),
            plots.shap_beeswarm(
                result.test_contributions, x_test, model.feature_names, folder / "shap_features.png"
            ),
        ):
            mlflow.log_artifact(str(path), "plots")
        predictions = pd.DataFrame(
            {
                "claim_id": result.test.claim_ids,
                "label": y_test,
                "probability": result.test_probability,
                "top_category": result.test_top_category,
                "true_category": result.test.category,
            }
        )
        predictions.to_parquet(folder / "test_predictions.parquet")
        mlflow.log_artifact(str(folder / "test_predictions.parquet"))
        bundle = model.save(folder / BUNDLE)
        info = log_pyfunc(bundle, settings.model_name)
        version = str(info.registered_model_version)
        mlflow.log_text(
            model_card(
                {**model.meta, "feature_set": model.state.feature_set}, history.report, version
            ),
            "model_card.md",
        )
    client = MlflowClient()
    client.set_registered_model_alias(settings.model_name, CHALLENGER, version)
    client.set_model_version_tag(settings.model_name, version, "run_id", run.info.run_id)
    client.set_model_version_tag(
        settings.model_name, version, "roc_auc", f"{result.metrics['lgbm_roc_auc']:.4f}"
    )
    return run.info.run_id, version


def log_pyfunc(bundle: Path, registered_name: str | None = None) -> Any:
    """Log the model folder as a pyfunc (``training.pyfunc``) with a signature, an input
    example, the packages' source and pinned requirements; registered when named."""
    examples = example_claims()
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=ClaimRiskPyfunc(),
        artifacts={BUNDLE: str(bundle)},
        registered_model_name=registered_name,
        code_paths=[str(PACKAGES / name) for name in ("features", "scoring", "training")],
        pip_requirements=requirements(),
        signature=signature(examples, example_output(bundle, examples)),
        input_example=examples,
    )


def run_artifact(run_id: str, path: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))
