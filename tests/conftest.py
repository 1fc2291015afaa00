"""Session fixtures: one small simulated world, its history, and one tiny trained model.

Tests are hermetic: everything is generated here, in temporary folders, with no network.
"""

from __future__ import annotations

import os

# Idle OpenMP threads spin while waiting; with the other core busy (xdist, a server under
# test) LightGBM then takes 10-20x longer. Passive waiting must be set before the import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

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
def partitioned_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session world again, written as month-partitioned Parquet datasets."""
    folder = tmp_path_factory.mktemp("partitioned")
    simulate(folder, WORLD_CLAIMS, seed=7, requests=300, months=18, fmt="partitioned")
    return folder / "history"


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Client]:
    """A LocalCluster of two single-threaded worker processes (one per core), started once
    per session and shared by every cluster test."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


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
