"""The MLflow face of the model: a pyfunc that scores claim requests with reasons.

Input: a DataFrame, one claim request (data contract section 2) per row, columns as the
request's fields (lists and objects as they are in JSON). Missing optional values may be
NaN or None. Output: one row per input row: ``claim_id``, ``denial_probability``,
``risk_band``, ``expected_denied_dollars``, ``reasons`` and ``not_checked`` (JSON text, as
the API answers them), and ``error`` (why the row could not be scored; empty otherwise).
Logged with the source of ``features``, ``scoring`` and ``training`` (``code_paths``) and
pinned requirements, so ``mlflow models serve`` needs no claimrisk package.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from scoring.registry import BUNDLE

OUTPUT_COLUMNS = [
    "claim_id",
    "denial_probability",
    "risk_band",
    "expected_denied_dollars",
    "reasons",
    "not_checked",
    "error",
]
REQUIREMENTS = ("numpy", "pandas", "pyarrow", "pydantic", "lightgbm", "scikit-learn", "scipy")


def plain(value: Any) -> Any:
    """A cell as JSON would have it: NaN is null, arrays are lists, numpy scalars Python."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def example_claims() -> pd.DataFrame:
    """The smoke claim, and the same claim with every optional field left out: the input
    example and what the signature is inferred from (so optional stays optional)."""
    from features.contract import ClaimIn, ClaimLineIn
    from scoring.scorer import SMOKE_CLAIM

    full = json.loads(SMOKE_CLAIM.model_dump_json())
    bare = {
        name: value
        for name, value in full.items()
        if name in ClaimIn.model_fields and ClaimIn.model_fields[name].is_required()
    }
    bare["claim_id"] = "A1002"
    bare["lines"] = [
        {k: v for k, v in line.items() if ClaimLineIn.model_fields[k].is_required()}
        for line in full["lines"]
    ]
    return pd.DataFrame([full, bare])


def signature(examples: pd.DataFrame, output: pd.DataFrame) -> Any:
    """Inputs from the contract, outputs inferred. Lists, objects (lines, context) and
    optional fields are typed Any: MLflow's own type check fails a whole batch on the NaN
    that pandas puts where a row has no value (or on a column no row fills), before the
    model sees it; the model validates every row itself and answers per row."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import (
        AnyType,
        ColSpec,
        DataType,
        ParamSchema,
        ParamSpec,
        Schema,
        TensorSpec,
    )

    from features.contract import ClaimIn

    first = plain(examples.iloc[0].to_dict())
    columns: list[ColSpec | TensorSpec] = []
    for name, field in ClaimIn.model_fields.items():
        kind: Any = DataType.string
        if isinstance(first.get(name), list | dict) or not field.is_required():
            kind = AnyType()
        elif isinstance(first.get(name), float):
            kind = DataType.double
        columns.append(ColSpec(kind, name, required=field.is_required()))
    return ModelSignature(
        inputs=Schema(columns),
        outputs=infer_signature(examples, output).outputs,
        params=ParamSchema([ParamSpec("reasons", DataType.string, "all")]),
    )


def requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in REQUIREMENTS] + [f"mlflow=={version('mlflow')}"]


class ClaimRiskPyfunc(PythonModel):
    def load_context(self, context: Any) -> None:
        from scoring.artifact import ClaimRiskModel
        from scoring.scorer import Scorer

        folder = Path(context.artifacts[BUNDLE])
        model = ClaimRiskModel.load(folder)
        self.scorer = Scorer(model, str(model.meta.get("version", "mlflow")), "mlflow")

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from pydantic import ValidationError

        from features.contract import ClaimIn

        explain = (params or {}).get("reasons", "all")
        rows: list[dict[str, Any]] = [
            {"claim_id": None, "error": ""} for _ in range(len(model_input))
        ]
        claims, at = [], []
        for index, record in enumerate(model_input.to_dict(orient="records")):
            cleaned = {k: v for k, v in plain(record).items() if v is not None}
            try:
                claims.append(ClaimIn.model_validate(cleaned))
                at.append(index)
            except ValidationError as error:  # field paths and messages only: no values
                rows[index]["claim_id"] = cleaned.get("claim_id")
                rows[index]["error"] = "; ".join(
                    ".".join(map(str, e["loc"])) + ": " + e["msg"]
                    for e in error.errors(include_url=False, include_input=False)
                )
        for index, result in zip(at, self.scorer.score(claims, explain=explain), strict=True):
            rows[index] = {
                "claim_id": result.claim_id,
                "denial_probability": result.denial_probability,
                "risk_band": result.risk_band,
                "expected_denied_dollars": result.expected_denied_dollars,
                "reasons": json.dumps(
                    None
                    if result.reasons is None
                    else [r.model_dump(mode="json") for r in result.reasons]
                ),
                "not_checked": json.dumps(result.not_checked),
                "error": "",
            }
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)


def example_output(bundle: Path, examples: pd.DataFrame) -> pd.DataFrame:
    """What the pyfunc answers for ``examples`` (for the signature), from a throwaway
    instance: the logged one must not carry a loaded model into its pickle."""
    from types import SimpleNamespace

    scoring = ClaimRiskPyfunc()
    scoring.load_context(SimpleNamespace(artifacts={BUNDLE: str(bundle)}))
    return scoring.predict(None, examples)
