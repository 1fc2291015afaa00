"""The untuned reference: what a competent engineer builds from the data contract in an hour.

A plain ``LGBMClassifier`` (400 trees, default shape) on the claim's raw fields (payer, plan,
place of service, lag, codes as a categorical and as one-hot columns, attachment) and about
twenty simple domain features: the last eligibility check before submission, an authorization
on file for a billed code (its dates, provider, units, number), payer and payer x code denial
shares from outcomes adjudicated before the claim, the lag against the payer's longest paid
lag, modifier 25, units, the provider's enrollment dates, age and sex.

It reads history folders and claim requests as the contract defines them (pandas and pyarrow
only) and does not import claimrisk's feature code, so it shares none of its assumptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from lightgbm import LGBMClassifier

DENIAL_SET = (  # the contract's section 3, every category's CARCs
    "26 27 31 32 33 140 177 200 15 39 62 197 198 243 4 5 6 7 8 9 10 11 58 97 146 151 181 182 "
    "189 236 16 163 164 226 227 252 29 170 185 242 B7 18 50 55 56 167 19 20 21 22 109 35 49 96 "
    "119 149 204 13 40 188"
)
DENIAL_CARCS = frozenset(DENIAL_SET.split(" "))
LIST_COLUMNS = {"diagnosis_codes", "modifiers", "diagnosis_pointers", "adjustments",
                "remark_codes", "procedure_codes"}  # fmt: skip
DATE_COLUMNS = {"service_date", "submission_date", "patient_birth_date", "adjudication_date",
                "checked_on", "coverage_start", "coverage_end", "start_date", "end_date",
                "effective_date"}  # fmt: skip
NUMBER_COLUMNS = {"total_charge", "units", "line_charge", "paid_amount", "line_number"}
CATEGORICAL = ("payer_id", "plan_type", "place_of_service", "code_1", "code_2", "dx_1",
               "elig_status")  # fmt: skip
TOP_CODES = 60


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[ns]")


def _context(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    """An optional context table, empty when the folder has none."""
    frame = _read(folder, name)
    return _empty(columns) if frame is None else frame


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    for suffix in ("parquet", "csv"):
        path = folder / f"{name}.{suffix}"
        if path.exists():
            if suffix == "parquet":
                frame = pq.read_table(path).to_pandas()
            else:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
                for column in frame.columns:
                    if column in LIST_COLUMNS:
                        frame[column] = frame[column].map(lambda v: v.split("|") if v else [])
                    elif column in NUMBER_COLUMNS:
                        frame[column] = pd.to_numeric(frame[column].replace("", None))
                    elif column == "has_attachment":
                        frame[column] = frame[column].map({"true": True, "false": False})
                    else:
                        frame[column] = frame[column].mask(frame[column] == "", None)
            for column in DATE_COLUMNS & set(frame.columns):
                frame[column] = _dates(frame[column])
            return frame
    return None


@dataclass
class Tables:
    """Claims (one row each), lines, and the context tables, as the contract names them."""

    claims: pd.DataFrame
    lines: pd.DataFrame
    checks: pd.DataFrame
    auths: pd.DataFrame
    enrollments: pd.DataFrame


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in DATE_COLUMNS else object)
                         for c in columns})  # fmt: skip


CHECK_COLUMNS = ["member_id", "payer_id", "checked_on", "status", "coverage_start", "coverage_end"]
AUTH_COLUMNS = ["auth_number", "payer_id", "member_id", "procedure_codes", "start_date",
                "end_date", "provider_npi", "units"]  # fmt: skip
ENROLL_COLUMNS = ["npi", "payer_id", "effective_date", "end_date"]


def history_tables(folder: Path) -> tuple[Tables, pd.DataFrame]:
    """A history folder's tables and its labels (claim_id, denied, adjudication_date)."""
    claims, lines, outcomes = (_read(folder, n) for n in ("claims", "claim_lines", "outcomes"))
    assert claims is not None and lines is not None and outcomes is not None
    tables = Tables(
        claims=claims,
        lines=lines,
        checks=_context(folder, "eligibility_checks", CHECK_COLUMNS),
        auths=_context(folder, "authorizations", AUTH_COLUMNS),
        enrollments=_context(folder, "provider_enrollments", ENROLL_COLUMNS),
    )

    def denied(row: Any) -> bool:
        if str(row.claim_status_code) == "4":
            return True
        for adjustment in row.adjustments if row.adjustments is not None else []:
            group, _, carc = str(adjustment).partition("-")
            if group in ("CO", "OA", "PI") and carc in DENIAL_CARCS:
                return True
        return False

    labels = pd.DataFrame(
        {
            "claim_id": outcomes["claim_id"],
            "denied": [denied(r) for r in outcomes.itertuples()],
            "adjudication_date": outcomes["adjudication_date"],
        }
    )
    return tables, labels


CONTEXT = ("lines", "eligibility", "authorizations", "provider_enrollment")


def request_tables(requests: list[dict[str, Any]]) -> Tables:
    """Claim requests (contract section 2) as the same tables, their inline context keyed by
    the claim's member, payer and provider."""
    claims, lines, checks, auths, enrollments = [], [], [], [], []
    for request in requests:
        claim = {k: v for k, v in request.items() if k not in CONTEXT}
        claims.append(claim)
        lines += [{**line, "claim_id": claim["claim_id"]} for line in request["lines"]]
        key = {"member_id": claim["member_id"], "payer_id": claim["payer_id"]}
        if request.get("eligibility"):
            checks.append({**request["eligibility"], **key})
        auths += [{**a, **key} for a in request.get("authorizations") or []]
        if request.get("provider_enrollment"):
            npi = claim.get("rendering_npi") or claim["billing_npi"]
            enrollments.append({**request["provider_enrollment"], "npi": npi,
                                "payer_id": claim["payer_id"]})  # fmt: skip

    def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
        out = pd.DataFrame(rows, columns=columns) if rows else _empty(columns)
        for column in DATE_COLUMNS & set(out.columns):
            out[column] = _dates(out[column])
        return out

    claims_frame = frame(claims, list(pd.DataFrame(claims).columns))
    return Tables(
        claims=claims_frame,
        lines=frame(lines, list(pd.DataFrame(lines).columns)),
        checks=frame(checks, CHECK_COLUMNS),
        auths=frame(auths, AUTH_COLUMNS),
        enrollments=frame(enrollments, ENROLL_COLUMNS),
    )


def _asof(left: pd.DataFrame, right: pd.DataFrame, left_on: str, right_on: str,
          by: list[str], strict: bool = False) -> pd.DataFrame:  # fmt: skip
    """The latest right row at or before each left row's date (same ``by`` keys)."""
    left = left.reset_index(drop=True).assign(_row=lambda f: np.arange(len(f)))
    right = right.dropna(subset=[right_on])
    merged = pd.merge_asof(
        left.sort_values(left_on), right.sort_values(right_on), left_on=left_on,
        right_on=right_on, by=by, allow_exact_matches=not strict, suffixes=("", "_r"),
    )  # fmt: skip
    return merged.sort_values("_row").reset_index(drop=True)


def _shares(claims: pd.DataFrame, events: pd.DataFrame, key: list[str], prior: float,
            strength: float = 20.0) -> np.ndarray:  # fmt: skip
    """Denial share of outcomes with the same key adjudicated strictly before submission,
    shrunk toward the overall rate."""
    if not len(events):
        return np.full(len(claims), prior)
    ev = events.sort_values("adjudication_date").copy()
    ev["n"] = ev.groupby(key).cumcount() + 1
    ev["d"] = ev.groupby(key)["denied"].cumsum()
    ev[key] = ev[key].astype(str)
    q = claims[[*key, "submission_date"]].copy()
    q[key] = q[key].astype(str)
    got = _asof(q, ev[[*key, "adjudication_date", "n", "d"]], "submission_date",
                "adjudication_date", key, strict=True)  # fmt: skip
    n = got["n"].fillna(0).to_numpy(float)
    d = got["d"].fillna(0).to_numpy(float)
    return (d + strength * prior) / (n + strength)


def features(tables: Tables, events: pd.DataFrame, codes: list[str],
             longest_paid_lag: dict[str, float]) -> pd.DataFrame:  # fmt: skip
    """One row of features per claim of ``tables.claims`` (in its order). ``events`` are the
    labelled history outcomes with payer, first code and date (for the shares)."""
    c = tables.claims.reset_index(drop=True)
    lines = tables.lines.copy()
    lines["procedure_code"] = lines["procedure_code"].astype(str)
    lines = lines.sort_values(["claim_id", "line_number"])
    by_claim = lines.groupby("claim_id", sort=False)
    first_codes = by_claim["procedure_code"].agg(list).reindex(c["claim_id"])
    out = pd.DataFrame(index=c.index)
    out["payer_id"] = c["payer_id"].astype(str)
    out["plan_type"] = c["plan_type"].astype(str)
    out["place_of_service"] = c["place_of_service"].astype(str)
    out["corrected"] = (c["frequency_code"].astype(str) == "7").astype(float)
    lag = (c["submission_date"] - c["service_date"]).dt.days.to_numpy(float)
    out["lag"] = lag
    out["lag_over_longest_paid"] = lag - c["payer_id"].astype(str).map(longest_paid_lag).to_numpy(
        float
    )
    listed = first_codes.map(lambda v: v if isinstance(v, list) else []).to_numpy()
    out["code_1"] = [v[0] if len(v) else "" for v in listed]
    out["code_2"] = [v[1] if len(v) > 1 else "" for v in listed]
    out["dx_1"] = c["diagnosis_codes"].map(lambda v: str(v[0]).replace(".", "") if len(v) else "")
    out["n_dx"] = c["diagnosis_codes"].map(len).astype(float)
    out["n_lines"] = [float(len(v)) for v in listed]
    for code in codes:
        out[f"code_{code}"] = [float(code in v) for v in listed]
    out["total_charge"] = c["total_charge"].astype(float)
    out["attachment"] = c.get("has_attachment", pd.Series(None, index=c.index)).map(
        lambda v: np.nan if v is None or v != v else float(bool(v))
    )
    out["has_auth_number"] = c["prior_auth_number"].notna().astype(float)
    out["has_referral"] = c["referral_number"].notna().astype(float)
    out["has_rendering"] = c["rendering_npi"].notna().astype(float)
    out["birth_missing"] = c["patient_birth_date"].isna().astype(float)
    out["sex_missing"] = c["patient_sex"].isna().astype(float)
    out["age"] = (c["service_date"] - c["patient_birth_date"]).dt.days.to_numpy(float) / 365.25
    out["male"] = (c["patient_sex"] == "M").astype(float)
    mods = by_claim["modifiers"].agg(lambda col: any("25" in list(m) for m in col if m is not None))
    out["modifier_25"] = mods.reindex(c["claim_id"]).fillna(False).to_numpy(float)
    out["max_units"] = by_claim["units"].max().reindex(c["claim_id"]).to_numpy(float)
    out["em_and_procedure"] = [
        float(any(x.startswith("992") for x in v) and any(not x.startswith("99") for x in v))
        for v in listed
    ]

    # the last eligibility check on or before submission
    checks = tables.checks.rename(columns={"checked_on": "_checked"})
    check = _asof(c[["member_id", "payer_id", "submission_date"]], checks, "submission_date",
                  "_checked", ["member_id", "payer_id"])  # fmt: skip
    out["elig_status"] = check["status"].fillna("none").astype(str).to_numpy()
    out["days_since_check"] = (c["submission_date"] - check["_checked"]).dt.days.to_numpy(float)
    out["coverage_ended"] = (check["coverage_end"] < c["service_date"]).astype(float).to_numpy()
    out["coverage_not_started"] = (
        (check["coverage_start"] > c["service_date"]).astype(float).to_numpy()
    )

    # authorizations on file (keyed by submission) for a billed code of the member and payer
    auths = tables.auths.explode("procedure_codes").rename(columns={"procedure_codes": "code"})
    auths = auths.dropna(subset=["code"])
    claim_keys = c[["claim_id", "member_id", "payer_id", "service_date", "submission_date",
                    "rendering_npi", "billing_npi", "prior_auth_number"]]  # fmt: skip
    line_keys = lines.drop(columns=["service_date"], errors="ignore").merge(
        claim_keys, on="claim_id"
    )
    pairs = line_keys.rename(columns={"procedure_code": "code"}).merge(
        auths.rename(columns={"units": "auth_units"}), on=["member_id", "payer_id", "code"]
    )
    pairs = pairs[pairs["start_date"] <= pairs["submission_date"]]
    pairs = pairs.assign(
        dates_ok=(pairs["start_date"] <= pairs["service_date"])
        & (pairs["service_date"] <= pairs["end_date"]),
        provider_ok=pairs["provider_npi"].isna()
        | (pairs["provider_npi"] == pairs["rendering_npi"])
        | (pairs["provider_npi"] == pairs["billing_npi"]),
        units_ok=pairs["auth_units"].isna() | (pairs["units"] <= pairs["auth_units"]),
        number_ok=pairs["auth_number"] == pairs["prior_auth_number"],
    )
    pairs["all_ok"] = pairs[["dates_ok", "provider_ok", "units_ok"]].all(axis=1)
    per_claim = pairs.groupby("claim_id")[["dates_ok", "provider_ok", "units_ok", "number_ok",
                                           "all_ok"]].any()  # fmt: skip
    matched = c["claim_id"].isin(per_claim.index).to_numpy()
    out["auth_for_a_code"] = matched.astype(float)
    for column in per_claim.columns:
        out[f"auth_{column}"] = per_claim[column].reindex(c["claim_id"]).astype(float).to_numpy()
    member_auths = tables.auths.groupby(["member_id", "payer_id"]).size().rename("n_member_auths")
    out["member_auths"] = (
        c.merge(member_auths.reset_index(), on=["member_id", "payer_id"], how="left")[
            "n_member_auths"
        ].fillna(0).to_numpy(float)
    )  # fmt: skip

    # the provider's enrollment with the payer on the service date
    acting = c[["payer_id", "service_date"]].copy()
    acting["npi"] = c["rendering_npi"].fillna(c["billing_npi"]).astype(str)
    enrollments = tables.enrollments.assign(npi=lambda f: f["npi"].astype(str)).rename(
        columns={"end_date": "_end"}
    )
    enrolled = _asof(acting, enrollments, "service_date", "effective_date", ["npi", "payer_id"])
    out["days_enrolled"] = (c["service_date"] - enrolled["effective_date"]).dt.days.to_numpy(float)
    out["enrollment_ended"] = (enrolled["_end"] < c["service_date"]).astype(float).to_numpy()

    # denial shares from earlier outcomes
    prior = float(events["denied"].mean()) if len(events) else 0.1
    keyed = c.assign(code_1=out["code_1"])
    out["payer_denial_share"] = _shares(keyed, events, ["payer_id"], prior)
    out["payer_code_denial_share"] = _shares(keyed, events, ["payer_id", "code_1"], prior)
    for name in CATEGORICAL:
        out[name] = out[name].astype("category")
    return out


@dataclass
class Reference:
    """The fitted reference: its booster and what its features need from the history."""

    model: LGBMClassifier
    events: pd.DataFrame
    codes: list[str]
    longest_paid_lag: dict[str, float]
    categories: dict[str, pd.Index]
    history: Tables

    def probability(self, requests: list[dict[str, Any]]) -> np.ndarray:
        tables = request_tables(requests)
        tables = Tables(
            claims=tables.claims,
            lines=tables.lines,
            checks=pd.concat([self.history.checks, tables.checks], ignore_index=True),
            auths=pd.concat([self.history.auths, tables.auths], ignore_index=True),
            enrollments=pd.concat(
                [self.history.enrollments, tables.enrollments], ignore_index=True
            ),
        )
        x = features(tables, self.events, self.codes, self.longest_paid_lag)
        for name, levels in self.categories.items():
            seen = x[name].astype(str)  # a value the history never had is unknown (NaN)
            x[name] = pd.Categorical(seen.where(seen.isin(levels)), categories=levels)
        return np.asarray(self.model.predict_proba(x))[:, 1]


def fit_reference(folder: Path, seed: int = 0) -> Reference:
    """Train the reference on every labelled claim of a history folder."""
    tables, labels = history_tables(folder)
    claims = tables.claims.merge(labels, on="claim_id")
    first = (
        tables.lines.sort_values(["claim_id", "line_number"]).groupby("claim_id")["procedure_code"]
        .first().astype(str)
    )  # fmt: skip
    events = pd.DataFrame(
        {
            "payer_id": claims["payer_id"].astype(str),
            "code_1": claims["claim_id"].map(first).fillna(""),
            "adjudication_date": claims["adjudication_date"],
            "denied": claims["denied"].astype(float),
        }
    )
    lag = (claims["submission_date"] - claims["service_date"]).dt.days
    longest = lag[~claims["denied"]].groupby(claims["payer_id"].astype(str)).max()
    codes = tables.lines["procedure_code"].astype(str).value_counts().index[:TOP_CODES].tolist()
    labelled = Tables(claims, tables.lines, tables.checks, tables.auths, tables.enrollments)
    x = features(labelled, events, codes, longest.astype(float).to_dict())
    model = LGBMClassifier(n_estimators=400, random_state=seed, verbose=-1, n_jobs=2)
    model.fit(x, claims["denied"].astype(int).to_numpy())
    return Reference(
        model=model,
        events=events,
        codes=codes,
        longest_paid_lag=longest.astype(float).to_dict(),
        categories={name: x[name].cat.categories for name in CATEGORICAL},
        history=tables,
    )


def read_requests(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
