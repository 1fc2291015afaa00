"""Contract validation of history folders: each bad file gets an error naming file, row, column."""

from pathlib import Path

import pandas as pd
import pytest

from features.history import HistoryError, load_history

CLAIMS = pd.DataFrame(
    {
        "claim_id": ["C1", "C2", "C3"],
        "patient_id": ["P1", "P2", "P3"],
        "member_id": ["M1", "M2", "M3"],
        "patient_birth_date": ["1960-01-02", "", "1990-05-06"],
        "patient_sex": ["F", "", "M"],
        "payer_id": ["00431", "60054", "60054"],
        "plan_type": ["medicaid", "commercial", "commercial"],
        "billing_npi": ["1234567893"] * 3,
        "rendering_npi": ["1679576722", "", "1679576722"],
        "place_of_service": ["02", "11", "11"],
        "frequency_code": ["1", "1", "7"],
        "service_date": ["2026-01-05", "2026-01-06", "2026-01-07"],
        "submission_date": ["2026-01-07", "2026-01-08", "2026-01-09"],
        "total_charge": ["120.00", "300", "80.5"],
        "prior_auth_number": ["", "PA1", ""],
        "referral_number": ["", "", ""],
        "diagnosis_codes": ["M54.50|M51.26", "Z23", "I10"],
        "has_attachment": ["", "true", "0"],
    }
)
LINES = pd.DataFrame(
    {
        "claim_id": ["C1", "C1", "C2", "C3"],
        "line_number": ["1", "2", "1", "1"],
        "procedure_code": ["99214", "72148", "90686", "93000"],
        "modifiers": ["25", "", "", ""],
        "units": ["1", "1", "1", "1"],
        "line_charge": ["40", "80", "300", "80.5"],
        "diagnosis_pointers": ["1", "1|2", "1", "1"],
        "service_date": ["", "", "", ""],
    }
)
OUTCOMES = pd.DataFrame(
    {
        "claim_id": ["C1", "C2"],
        "adjudication_date": ["2026-01-20", "2026-01-25"],
        "claim_status_code": ["4", "1"],
        "paid_amount": ["0", "250"],
        "adjustments": ["CO-197", "CO-45|PR-2"],
        "remark_codes": ["N54", ""],
    }
)


def write(folder: Path, claims=CLAIMS, lines=LINES, outcomes=OUTCOMES, **context) -> Path:
    folder.mkdir(exist_ok=True)
    for name, frame in {
        "claims": claims,
        "claim_lines": lines,
        "outcomes": outcomes,
        **context,
    }.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def with_value(frame: pd.DataFrame, row: int, column: str, value: str) -> pd.DataFrame:
    changed = frame.copy()
    changed.loc[row, column] = value
    return changed


def test_valid_history_normalises_codes_dates_and_lists(tmp_path):
    history = load_history(write(tmp_path))
    claims = history.claims.set_index("claim_id")
    assert claims.loc["C1", "payer_id"] == "00431"  # leading zero kept
    assert claims.loc["C1", "place_of_service"] == "02"
    assert claims.loc["C1", "diagnosis_codes"] == ["M5450", "M5126"]  # dot dropped
    assert pd.isna(claims.loc["C2", "rendering_npi"])
    assert bool(claims.loc["C2", "has_attachment"]) is True
    assert claims.loc["C3", "has_attachment"] is False or not claims.loc["C3", "has_attachment"]
    assert history.claim_lines["diagnosis_pointers"].tolist()[1] == [1, 2]
    assert history.report.missing_context == [
        "eligibility_checks",
        "authorizations",
        "provider_enrollments",
    ]
    assert any("eligibility reasons cannot be learned" in w for w in history.report.warnings())
    assert history.labels.labels["denied"].tolist() == [True, False]


def test_parquet_and_csv_load_the_same(tmp_path):
    csv = load_history(write(tmp_path / "csv"))
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, frame in {"claims": CLAIMS, "claim_lines": LINES, "outcomes": OUTCOMES}.items():
        frame.to_parquet(folder / f"{name}.parquet")
    parquet = load_history(folder)
    pd.testing.assert_frame_equal(csv.claims, parquet.claims)
    pd.testing.assert_frame_equal(csv.claim_lines, parquet.claim_lines)


def test_missing_column_names_file_and_column(tmp_path):
    with pytest.raises(HistoryError, match=r"claims\.csv: missing required column\(s\): payer_id"):
        load_history(write(tmp_path, claims=CLAIMS.drop(columns="payer_id")))


def test_missing_required_table(tmp_path):
    folder = write(tmp_path)
    (folder / "outcomes.csv").unlink()
    with pytest.raises(HistoryError, match="required table outcomes"):
        load_history(folder)


def test_wrong_type_names_row_and_column(tmp_path):
    claims = with_value(CLAIMS, 1, "total_charge", "three hundred")
    with pytest.raises(
        HistoryError, match=r"claims\.csv: row 2, column 'total_charge': is not a number"
    ):
        load_history(write(tmp_path, claims=claims))


def test_malformed_date_names_row_and_column(tmp_path):
    claims = with_value(CLAIMS, 2, "service_date", "01/07/2026")
    with pytest.raises(
        HistoryError, match=r"claims\.csv: row 3, column 'service_date': is not a date"
    ):
        load_history(write(tmp_path, claims=claims))


def test_duplicate_claim_id(tmp_path):
    claims = with_value(CLAIMS, 2, "claim_id", "C1")
    with pytest.raises(
        HistoryError, match=r"claims\.csv: rows 1, 3, column 'claim_id': claim_id is not unique"
    ):
        load_history(write(tmp_path, claims=claims))


def test_bad_enum_and_code_format(tmp_path):
    claims = with_value(CLAIMS, 0, "plan_type", "HMO")
    lines = with_value(LINES, 3, "procedure_code", "9300")
    with pytest.raises(HistoryError) as error:
        load_history(write(tmp_path, claims=claims, lines=lines))
    message = str(error.value)
    assert "claims.csv: row 1, column 'plan_type': must be one of commercial" in message
    assert (
        "claim_lines.csv: row 4, column 'procedure_code': is not in the expected format" in message
    )


def test_unknown_carc_is_reported_not_fatal(tmp_path):
    outcomes = with_value(OUTCOMES, 1, "adjustments", "CO-45|CO-W9")
    history = load_history(write(tmp_path, outcomes=outcomes))
    assert history.report.unlisted_carcs == {"W9": 1}
    assert any("W9 (1)" in w for w in history.report.warnings())
    assert history.labels.labels["denied"].tolist() == [True, False]


def test_phi_values_never_echoed(tmp_path):
    claims = with_value(CLAIMS, 0, "patient_birth_date", "1960-02-31")
    with pytest.raises(HistoryError) as error:
        load_history(write(tmp_path, claims=claims))
    assert "patient_birth_date" in str(error.value)
    assert "1960-02-31" not in str(error.value)


def test_skip_invalid_drops_and_counts_with_dependants(tmp_path):
    lines = with_value(LINES, 1, "units", "-2")
    history = load_history(write(tmp_path, lines=lines), skip_invalid=True)
    assert history.claims["claim_id"].tolist() == ["C2", "C3"]
    assert set(history.claim_lines["claim_id"]) == {"C2", "C3"}
    assert history.outcomes["claim_id"].tolist() == ["C2"]
    skipped = history.report.skipped
    assert skipped["claim_lines: invalid rows"] == 1
    assert skipped["claims: dropped with an invalid line"] == 1
    assert skipped["claim_lines: dropped with their claim"] == 1
    assert skipped["outcomes: dropped with their claim"] == 1


def test_orphan_lines_and_outcomes(tmp_path):
    outcomes = with_value(OUTCOMES, 1, "claim_id", "C9")
    with pytest.raises(
        HistoryError, match=r"outcomes\.csv: row 2, column 'claim_id': claim_id is not in claims"
    ):
        load_history(write(tmp_path, outcomes=outcomes))
