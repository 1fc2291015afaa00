"""Settings of the jobs, from the environment (``CLAIMRISK_*``) with embedded defaults.

The defaults need no server: MLflow tracks into a SQLite file and a local artifact folder in
the working directory. Nothing happens at import time; ``get_settings()`` builds them once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMRISK_")

    tracking_uri: str = "sqlite:///mlflow.db"
    artifact_root: Path = Path("mlartifacts")
    experiment: str = "claimrisk"
    model_name: str = "claimrisk"


@lru_cache
def get_settings() -> Settings:
    return Settings()
