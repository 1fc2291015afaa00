"""The model being served, and how it is replaced: load, smoke-score, swap atomically.

A model that fails to load or to score the smoke claim is refused and the old one keeps
serving. Reloads come from the admin endpoint, SIGHUP, or polling the registry alias.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from features.scratch import owned_prefix, sweep_abandoned
from scoring.artifact import ClaimRiskModel
from scoring.scorer import SMOKE_CLAIM, Scorer
from serving.model_check import ModelRefused, check_in_child
from serving.settings import ServeSettings

log = logging.getLogger("claimrisk.serving")
MODEL_COPY_PREFIX = "claimrisk-model-"  # the private copy of the model a server process holds
__all__ = ["ModelHolder", "ModelRefused", "loader_for", "smoke_test"]


def smoke_test(scorer: Scorer) -> None:
    result = scorer.score([SMOKE_CLAIM])[0]
    if not np.isfinite(result.denial_probability) or not 0 <= result.denial_probability <= 1:
        raise ModelRefused(f"smoke score is {result.denial_probability}")


def is_folder_source(source: str) -> bool:
    """A model folder path rather than a registry alias or version (aliases have no ``/``)."""
    return "/" in source or source.startswith(".") or Path(source).exists()


def loader_for(
    settings: ServeSettings, check: Callable[[Path], None] = check_in_child
) -> Callable[[], Scorer]:
    """Load from a model folder path, or from the MLflow registry (alias or version).

    The files are first copied (or downloaded) into a private folder, so what was checked is
    what is loaded even if someone rewrites the model folder meanwhile; ``check`` (a child
    process, see ``serving.model_check``) must pass before this process parses them. The
    folder is kept while the model serves (batch processes load it from there)."""
    source = settings.model

    def load() -> Scorer:
        sweep_abandoned(MODEL_COPY_PREFIX)  # copies of servers that were killed
        private = Path(tempfile.mkdtemp(prefix=owned_prefix(MODEL_COPY_PREFIX)))
        try:
            if is_folder_source(source):
                path = Path(source)
                if not path.is_dir():
                    raise FileNotFoundError(f"model folder {source} does not exist")
                folder = Path(shutil.copytree(path, private / "model"))
                version, origin, alias = path.name, str(path), None
            else:
                from scoring.registry import download_model, get_settings

                folder, version = download_model(get_settings(), source, private)
                origin = f"models:/{get_settings().model_name}"
                alias = None if source.isdigit() else source
            check(folder)
            model = ClaimRiskModel.load(folder).prepare()
        except BaseException:
            shutil.rmtree(private, ignore_errors=True)
            raise
        return Scorer(model, version, origin, alias=alias, folder=folder)

    return load


def _private_root(scorer: Scorer | None) -> Path | None:
    """The temporary folder ``loader_for`` made for ``scorer`` (None for other loaders)."""
    if scorer is None or scorer.folder is None:
        return None
    for parent in scorer.folder.parents:
        if parent.name.startswith(MODEL_COPY_PREFIX) and parent.parent == Path(
            tempfile.gettempdir()
        ):
            return parent
    return None


class ModelHolder:
    def __init__(self, load: Callable[[], Scorer]) -> None:
        self._load = load
        self._scorer: Scorer | None = None
        self._retired: Scorer | None = None  # its files may still be read by a batch
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
            self._discard(self._retired)
            self._retired = previous
            log.info(
                "model version %s loaded (was %s)",
                candidate.version,
                previous.version if previous else None,
            )
            return candidate

    @staticmethod
    def _discard(scorer: Scorer | None) -> None:
        root = _private_root(scorer)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def close(self) -> None:
        """Remove the private copies of the models this holder loaded."""
        with self._lock:
            self._discard(self._retired)
            self._discard(self._scorer)
