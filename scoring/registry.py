"""The MLflow model registry as serving, scoring and training all see it: settings from the
environment (``CLAIMRISK_*``, embedded defaults: a SQLite file and a local artifact folder in
the working directory, no server), aliases, and loading a registered model by alias or version.
Nothing happens at import time; ``get_settings()`` builds the settings once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient
from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.artifact import ClaimRiskModel

CHAMPION, CHALLENGER = "champion", "challenger"
BUNDLE = "claimrisk_model"  # the pyfunc's artifact: the claimrisk model folder


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMRISK_")

    tracking_uri: str = "sqlite:///mlflow.db"
    artifact_root: Path = Path("mlartifacts")
    experiment: str = "claimrisk"
    model_name: str = "claimrisk"


@lru_cache
def get_settings() -> Settings:
    return Settings()


class NoTrackingStore(LookupError):
    """The configured MLflow SQLite file does not exist (and only training creates one)."""


def use_tracking(settings: Settings, create: bool = False) -> str:
    """Point MLflow at the configured store; create the experiment if needed; its id.

    A missing SQLite store is an error unless ``create`` (training): reading from a path
    that has vanished must not silently start an empty registry there."""
    prefix = "sqlite:///"
    if settings.tracking_uri.startswith(prefix) and not create:
        path = Path(settings.tracking_uri.removeprefix(prefix))
        if not path.is_file():
            raise NoTrackingStore(
                f"no MLflow store at {path}: train a model first (claimrisk train), or point "
                "CLAIMRISK_TRACKING_URI at the store"
            )
    mlflow.set_tracking_uri(settings.tracking_uri)
    experiment = mlflow.get_experiment_by_name(settings.experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    settings.artifact_root.mkdir(parents=True, exist_ok=True)
    return str(
        mlflow.create_experiment(
            settings.experiment, artifact_location=settings.artifact_root.resolve().as_uri()
        )
    )


def version_for(settings: Settings, alias: str) -> Any | None:
    """The model version behind ``alias``, or None."""
    use_tracking(settings)
    try:
        return MlflowClient().get_model_version_by_alias(settings.model_name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def load_model(settings: Settings, alias_or_version: str = CHAMPION) -> tuple[ClaimRiskModel, str]:
    """Download and load a registered model by alias (or version number); (model, version)."""
    folder, version = download_model(settings, alias_or_version)
    return ClaimRiskModel.load(folder), version


def download_model(
    settings: Settings, alias_or_version: str = CHAMPION, into: Path | None = None
) -> tuple[Path, str]:
    """Download a registered model's folder (into ``into``, or MLflow's temporary folder);
    (folder, version).

    The alias is resolved to a version first, so the label always matches the model even if
    the alias moves meanwhile."""
    use_tracking(settings)
    version = alias_or_version
    if not alias_or_version.isdigit():
        found = version_for(settings, alias_or_version)
        if found is None:
            raise LookupError(f"no version of {settings.model_name} has alias {alias_or_version}")
        version = str(found.version)
    reference = f"models:/{settings.model_name}/{version}"
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=reference, dst_path=None if into is None else str(into)
        )
    )
    return local / "artifacts" / BUNDLE, version
