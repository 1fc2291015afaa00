"""Session fixtures: one small simulated world, its history, and one tiny trained model.

Tests are hermetic: everything is generated here, in temporary folders, with no network.
"""

from __future__ import annotations

import os

# Idle OpenMP threads spin while waiting; with the other core busy (xdist, a server under
# test) LightGBM then takes 10-20x longer. Passive waiting must be set before the import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import pandas as pd
import pytest

from features.history import History, load_history
from scoring.registry import Settings
from simulator import simulate
from training.train import TrainResult, train

WORLD_CLAIMS = 30_000


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    simulate(folder, WORLD_CLAIMS, seed=7, requests=300, months=18)
    return folder


@pytest.fixture(scope="session")
def history(world: Path) -> History:
    return load_history(world / "history")


@pytest.fixture(scope="session")
def truth(world: Path) -> pd.DataFrame:
    return pd.read_parquet(world / "ground_truth.parquet")


@pytest.fixture(scope="session")
def trained(history: History, truth: pd.DataFrame) -> TrainResult:
    return train(history, truth=truth)


@pytest.fixture()
def mlflow_settings(tmp_path: Path) -> Settings:
    return Settings(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_root=tmp_path / "mlartifacts",
        experiment="claimrisk-test",
        model_name="claimrisk-test",
    )


@pytest.fixture(scope="session")
def model_dir(trained: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained.model.save(tmp_path_factory.mktemp("model") / "model")
