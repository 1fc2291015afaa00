"""The MLflow store: a missing SQLite file is an error, and a killed train's run is closed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from scoring.registry import NoTrackingStore, Settings, use_tracking, version_for
from training.tracking import HOST_TAG, PID_TAG, close_abandoned_runs


def test_a_missing_sqlite_store_is_an_error_and_is_not_created(mlflow_settings: Settings):
    path = mlflow_settings.tracking_uri.removeprefix("sqlite:///")
    with pytest.raises(NoTrackingStore, match="no MLflow store"):
        version_for(mlflow_settings, "champion")
    assert not os.path.exists(path)
    use_tracking(mlflow_settings, create=True)  # training creates it
    assert os.path.exists(path)
    assert version_for(mlflow_settings, "champion") is None


def test_a_run_left_running_by_a_killed_train_is_marked_killed(mlflow_settings: Settings):
    experiment = use_tracking(mlflow_settings, create=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs
    host = socket.gethostname()
    client = MlflowClient()
    killed = client.create_run(experiment, tags={HOST_TAG: host, PID_TAG: str(gone.pid)})
    alive = client.create_run(experiment, tags={HOST_TAG: host, PID_TAG: str(os.getpid())})
    elsewhere = client.create_run(experiment, tags={HOST_TAG: "other-host", PID_TAG: "1"})
    assert close_abandoned_runs(experiment) == [killed.info.run_id]
    assert mlflow.get_run(killed.info.run_id).info.status == "KILLED"
    assert mlflow.get_run(alive.info.run_id).info.status == "RUNNING"
    assert mlflow.get_run(elsewhere.info.run_id).info.status == "RUNNING"
