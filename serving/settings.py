"""Serving settings from the environment (``CLAIMRISK_SERVE_*``), built once and injected."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMRISK_SERVE_")

    model: str = "champion"  # a registry alias, a version number, or a model folder path
    api_keys_file: Path = Path("api_keys.json")
    allow_anonymous: bool = False  # only for local trials: no API key required
    max_body_bytes: int = 32 * 1024 * 1024  # a 10,000-claim batch fits well within this
    poll_seconds: float = 0.0  # > 0: poll the registry alias and reload when it moves
    audit_log: Path | None = None  # None: audit lines go to the "claimrisk.audit" logger only
    prediction_store: Path | None = Path("predictions.db")  # for claimrisk monitor; None: off
    queue_store: Path | None = Path("queue.db")  # the work queue's claim statuses; None: off
    state_file: Path = Path("serve_state.db")  # shared by the workers: last batches, reloads
    # Claims scored before count as earlier submissions (duplicates), found in the prediction
    # store by a keyed digest (see serving.digest_key); needs the prediction store.
    remember_scored: bool = True
    digest_key_file: Path | None = None  # None: digest.key beside the prediction store
    digest_retention_days: int = Field(default=365, ge=1)  # by submission date
    batch_processes: int = Field(default=1, ge=0)  # per worker; 0: batches in a thread
    max_batches_waiting: int = Field(default=4, ge=0)  # per worker; beyond: 503, Retry-After
    reload_poll_seconds: float = Field(
        default=1.0, gt=0
    )  # how often a worker looks for others' reloads

    @field_validator(
        "audit_log", "prediction_store", "queue_store", "digest_key_file", mode="before"
    )
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        """An empty setting means none (``CLAIMRISK_SERVE_PREDICTION_STORE=``: no store), not
        ``Path(".")``."""
        return None if value == "" else value


@lru_cache
def get_serve_settings() -> ServeSettings:
    return ServeSettings()
