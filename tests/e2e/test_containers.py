"""The deployable unit: the image and compose.yaml, built and started where Docker runs.

Needs a Docker engine and the compose plugin; without them the build-and-start test is
skipped with the reason. The files' wiring is checked everywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.claims import EXAMPLE
from tests.e2e.conftest import REPO, free_port


def test_the_files_wire_api_mlflow_and_prometheus_together():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    default = {name for name, s in compose["services"].items() if "profiles" not in s}
    assert default == {"api", "mlflow", "prometheus"}
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["api:8000"] and prometheus["scrape_configs"][0]["metrics_path"] == "/metrics"
    assert (
        compose["services"]["api"]["environment"]["CLAIMRISK_TRACKING_URI"] == "http://mlflow:5000"
    )
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "USER claimrisk" in dockerfile and "/ready" in dockerfile.split("HEALTHCHECK")[1]
    assert '"--workers", "2"' in dockerfile


def test_the_image_runs_the_dask_scheduler_and_workers_of_the_cluster_profile():
    """`docker compose --profile cluster up` adds a scheduler and workers of the API's image,
    the workers pointed at the scheduler; the dask CLI they run is in the locked runtime
    dependencies (the image installs no dev group) and answers here."""
    import tomllib

    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    cluster = {name: s for name, s in services.items() if "cluster" in s.get("profiles", [])}
    assert set(cluster) == {"scheduler", "worker"}
    assert {s["image"] for s in cluster.values()} == {services["mlflow"]["image"]}
    assert services["api"]["image"] == services["mlflow"]["image"]
    assert cluster["scheduler"]["command"][:4] == ["dask", "scheduler", "--port", "8786"]
    assert cluster["worker"]["command"][:3] == ["dask", "worker", "tcp://scheduler:8786"]
    assert cluster["worker"]["depends_on"]["scheduler"]["condition"] == "service_healthy"
    for service in cluster.values():  # not the image's API check
        assert "/health" in service["healthcheck"]["test"][-1]
    runtime = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {d.split(">")[0].split("[")[0] for d in runtime} >= {"dask", "distributed"}
    dask = Path(sys.executable).parent / "dask"
    for command in ("scheduler", "worker"):
        shown = subprocess.run([dask, command, "--help"], capture_output=True, text=True)
        assert shown.returncode == 0 and "--dashboard-address" in shown.stdout, shown.stderr


def test_the_image_copies_every_package_the_wheel_holds():
    """The image installs the project from the packages it copies: one left out is missing
    from the wheel (the rooms added since the Dockerfile was written were)."""
    import tomllib

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"][
        "targets"
    ]["wheel"]["packages"]
    copied = {
        line.split()[1]
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
    }
    assert set(packages) <= copied


def _docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        return f"`docker info` failed (no Docker engine): {info.stderr.strip().splitlines()[-1:]}"
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if compose.returncode != 0:
        return "the docker compose plugin is not installed"
    return None


@pytest.fixture(scope="module")
def docker() -> None:
    reason = _docker_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def stack(
    docker: None, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    models = tmp_path_factory.mktemp("models")
    shutil.copytree(model_dir, models / "current")
    os.chmod(models, 0o755)
    project = f"claimrisk-e2e-{os.getpid()}"
    ports = {
        name: str(free_port()) for name in ("CLAIMRISK_PORT", "MLFLOW_PORT", "PROMETHEUS_PORT")
    }
    env = {**os.environ, **ports, "CLAIMRISK_MODELS": str(models)}
    compose = ["docker", "compose", "-p", project, "-f", str(REPO / "compose.yaml")]
    subprocess.run([*compose, "up", "--build", "-d"], env=env, check=True, cwd=REPO)
    try:
        yield {**ports, "compose": json.dumps(compose)}
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, check=False, cwd=REPO)


def test_the_stack_builds_starts_scores_and_is_scraped(stack: dict[str, str]):
    compose = json.loads(stack["compose"])
    api = f"http://127.0.0.1:{stack['CLAIMRISK_PORT']}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = subprocess.run(
            [*compose, "ps", "--format", "json", "api"], capture_output=True, text=True
        ).stdout
        if '"healthy"' in state or '"Health":"healthy"' in state:
            break
        time.sleep(3)
    else:
        pytest.fail(f"the api container did not become healthy: {state}")
    key = (
        subprocess.run(
            [*compose, "exec", "-T", "api", "claimrisk", "keys", "create", "e2e"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    scored = httpx.post(f"{api}/v1/claims/score", json=EXAMPLE, headers={"X-API-Key": key})
    assert scored.status_code == 200, scored.text
    assert httpx.get(f"http://127.0.0.1:{stack['MLFLOW_PORT']}/health").status_code == 200
    prometheus = f"http://127.0.0.1:{stack['PROMETHEUS_PORT']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        targets = httpx.get(f"{prometheus}/api/v1/targets").json()["data"]["activeTargets"]
        if targets and targets[0]["health"] == "up":
            break
        time.sleep(2)
    assert targets and targets[0]["health"] == "up"
