"""The model being served, and how it is replaced: load, smoke-score, swap atomically.

A model that fails to load or to score the smoke claim is refused and the old one keeps
serving. Reloads come from the admin endpoint, SIGHUP, or polling the registry alias.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

from features.contract import ClaimIn
from scoring.artifact import ClaimRiskModel
from scoring.scorer import Scorer
from serving.settings import ServeSettings

log = logging.getLogger("claimrisk.serving")
SMOKE_CLAIM = ClaimIn.model_validate_json(
    resources.files("serving").joinpath("smoke_claim.json").read_text()
)


class ModelRefused(RuntimeError):
    """A candidate model failed to load or to score the smoke claim."""


def smoke_test(scorer: Scorer) -> None:
    result = scorer.score([SMOKE_CLAIM])[0]
    if not np.isfinite(result.denial_probability) or not 0 <= result.denial_probability <= 1:
        raise ModelRefused(f"smoke score is {result.denial_probability}")


def loader_for(settings: ServeSettings) -> Callable[[], Scorer]:
    """Load from a model folder path, or from the MLflow registry (alias or version)."""
    source = settings.model

    def load() -> Scorer:
        path = Path(source)
        if path.is_dir():
            return Scorer(ClaimRiskModel.load(path), path.name, str(path))
        from scoring.registry import get_settings, load_model

        model, version = load_model(get_settings(), source)
        alias = None if source.isdigit() else source
        return Scorer(model, version, f"models:/{get_settings().model_name}", alias=alias)

    return load


class ModelHolder:
    def __init__(self, load: Callable[[], Scorer]) -> None:
        self._load = load
        self._scorer: Scorer | None = None
        self._lock = threading.Lock()

    @property
    def scorer(self) -> Scorer | None:
        return self._scorer

    def reload(self) -> Scorer:
        """Load and smoke-test a candidate; swap it in only if both succeed."""
        with self._lock:
            try:
                candidate = self._load()
                smoke_test(candidate)
            except Exception as error:
                log.error("model refused: %s: %s", type(error).__name__, error)
                raise ModelRefused(f"{type(error).__name__}: {error}") from error
            previous = self._scorer
            self._scorer = candidate  # a single reference swap: requests see old or new
            log.info(
                "model version %s loaded (was %s)",
                candidate.version,
                previous.version if previous else None,
            )
            return candidate
