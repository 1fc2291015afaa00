"""Feature values on hand-built claims are what a biller would expect."""

import math

import numpy as np
import pytest

from features import codes
from features.batch import batch_from_requests
from features.facts import build_facts
from features.learned import Outcomes
from features.pipeline import compute_features, fit_state
from features.rules import REGISTRY
from tests.claims import EXAMPLE, claim, day_number

AUTH = EXAMPLE["authorizations"][0]


def features_of(*claims):
    facts = build_facts(batch_from_requests(list(claims)))
    n = len(claims)
    nothing = Outcomes(np.full(n, -1), np.zeros(n, bool), np.full(n, None, dtype=object))
    return compute_features(facts, fit_state(facts, nothing))


def one(**changes):
    return features_of(claim(**changes)).iloc[0]


def test_every_feature_has_one_known_category_and_words():
    for feature in REGISTRY:
        assert feature.description and feature.category
    groups = REGISTRY.by_category()
    assert sum(len(names) for names in groups.values()) == len(REGISTRY.names())
    assert all(
        groups[c]
        for c in (
            "eligibility",
            "authorization",
            "coding",
            "documentation",
            "timely_filing",
            "credentialing",
            "duplicate",
            "medical_necessity",
            "coordination_of_benefits",
            "non_covered",
        )
    )


def test_clean_example_claim():
    x = one()
    assert x["elig_no_check"] == 0
    assert x["elig_check_age_days"] == 5
    assert x["auth_days_outside_window"] == 0
    assert x["auth_other_provider"] == 0
    assert x["auth_number_not_on_claim"] == 0
    assert x["coding_em_with_procedure_no_25"] == 0
    assert x["filing_lag_days"] == 3
    assert x["cred_not_enrolled_on_service_date"] == 0
    assert x["doc_charge_mismatch"] == 0
    assert x["medn_unsupported_lines"] == 0


def test_expired_authorization():
    x = one(authorizations=[{**AUTH, "end_date": "2026-09-30"}])
    assert x["auth_days_outside_window"] == 2  # service 2026-10-02, two days after the end
    assert x["auth_lines_without_auth"] == 1  # only the office visit, which has no auth


def test_authorization_for_another_provider_and_too_few_units():
    x = one(authorizations=[{**AUTH, "provider_npi": "1245319599"}])
    assert x["auth_other_provider"] == 1
    y = one(lines=[EXAMPLE["lines"][0], {**EXAMPLE["lines"][1], "units": 3}])
    assert y["auth_units_short"] == 2


def test_no_authorization_on_file_vs_not_sent():
    none_on_file = one(authorizations=[])
    assert none_on_file["auth_lines_without_auth"] == 2
    not_sent = one(authorizations=None)
    assert math.isnan(not_sent["auth_lines_without_auth"])
    assert math.isnan(not_sent["auth_no_valid_auth_rate"])


def test_auth_number_missing_from_claim():
    assert one(prior_auth_number=None)["auth_number_not_on_claim"] == 1


def test_lapsed_coverage():
    check = {
        "checked_on": "2026-09-30",
        "status": "active",
        "coverage_start": "2025-01-01",
        "coverage_end": "2026-09-15",
    }
    x = one(eligibility=check)
    assert x["elig_days_past_coverage_end"] == 17
    inactive = one(eligibility={**check, "status": "inactive"})
    assert inactive["elig_check_inactive"] == 1


def test_eligibility_check_after_submission_does_not_count():
    x = one(eligibility={"checked_on": "2026-10-06", "status": "active"})
    assert x["elig_no_check"] == 1


def test_absent_eligibility_is_no_check_when_other_context_is_sent():
    """The contract cannot say "no check on file" but by leaving the block out; a request
    with no context at all (an 837P alone) leaves eligibility unknown."""
    without_check = one(eligibility=None)
    assert without_check["elig_no_check"] == 1
    alone = one(eligibility=None, authorizations=None, provider_enrollment=None)
    assert math.isnan(alone["elig_no_check"])
    assert math.isnan(alone["elig_payer_state_rate"])


def test_late_submission():
    x = one(
        service_date="2026-03-01",
        submission_date="2026-09-17",
        lines=[{**line, "service_date": None} for line in EXAMPLE["lines"]],
        authorizations=[{**AUTH, "start_date": "2026-02-01"}],
    )
    assert x["filing_lag_days"] == 200
    assert x["filing_days_past_typical_limit"] == 110  # commercial plans: 90 days


def test_visit_with_procedure_needs_modifier_25():
    visit = {**EXAMPLE["lines"][0], "modifiers": []}
    injection = {
        "line_number": 2,
        "procedure_code": "20610",
        "units": 1,
        "line_charge": 240.0,
        "diagnosis_pointers": [1],
    }
    x = one(lines=[visit, injection], diagnosis_codes=["M17.11"])
    assert x["coding_em_with_procedure_no_25"] == 1
    assert (
        one(lines=[{**visit, "modifiers": ["25"]}, injection], diagnosis_codes=["M17.11"])[
            "coding_em_with_procedure_no_25"
        ]
        == 0
    )


def test_units_sex_and_telehealth_edits():
    mri = {**EXAMPLE["lines"][1], "units": 3}
    assert one(lines=[EXAMPLE["lines"][0], mri])["coding_units_over_limit"] == 2
    mammogram = {
        "line_number": 1,
        "procedure_code": "77067",
        "units": 1,
        "line_charge": 420.0,
        "diagnosis_pointers": [1],
    }
    assert (
        one(patient_sex="M", lines=[mammogram], diagnosis_codes=["Z12.31"])["coding_sex_conflict"]
        == 1
    )
    assert one(place_of_service="02")["coding_telehealth_without_modifier"] == 1


def test_diagnosis_that_does_not_support_the_procedure():
    x = one(
        diagnosis_codes=["J06.9", "M51.26"],
        lines=[EXAMPLE["lines"][0], {**EXAMPLE["lines"][1], "diagnosis_pointers": [1]}],
    )
    assert x["medn_unsupported_lines"] == 1
    assert x["doc_pointer_out_of_range"] == 0
    bad_pointer = one(
        lines=[EXAMPLE["lines"][0], {**EXAMPLE["lines"][1], "diagnosis_pointers": [3]}]
    )
    assert bad_pointer["doc_pointer_out_of_range"] == 1


def test_provider_not_yet_enrolled():
    x = one(provider_enrollment={"effective_date": "2026-11-01", "end_date": None})
    assert x["cred_not_enrolled_on_service_date"] == 1  # enrollment not yet on file at submission
    y = one(provider_enrollment={"effective_date": "2026-10-04", "end_date": None})
    assert y["cred_not_enrolled_on_service_date"] == 1
    assert y["cred_days_before_effective"] == 2
    assert math.isnan(one(provider_enrollment=None)["cred_not_enrolled_on_service_date"])


@pytest.mark.parametrize(
    ("changes", "feature", "value"),
    [
        ({"total_charge": 400.0}, "doc_charge_mismatch", 1),
        ({"patient_birth_date": None, "patient_sex": None}, "doc_missing_patient_fields", 2),
        ({"rendering_npi": "1679576723"}, "doc_npi_check_digit_bad", 1),
        ({"frequency_code": "7"}, "dup_is_replacement", 1),
    ],
)
def test_simple_flags(changes, feature, value):
    assert one(**changes)[feature] == value


def test_features_of_a_batch_equal_features_one_by_one():
    claims = [
        claim(),
        claim(claim_id="A1002", place_of_service="02"),
        claim(claim_id="A1003", authorizations=None),
    ]
    together = features_of(*claims)
    for position, single in enumerate(claims):
        alone = features_of(single)
        np.testing.assert_array_equal(together.iloc[position].to_numpy(), alone.iloc[0].to_numpy())


@pytest.mark.parametrize(
    ("code", "billable"),
    [
        ("E119", True),
        ("S83241A", True),
        ("G35A", True),  # relapsing-remitting MS, since the FY2026 code set
        ("G35", False),  # subdivided on 2025-10-01
        ("Z86010", False),  # subdivided on 2023-10-01 (Z86.0100 ...)
        ("M545", False),  # subdivided on 2021-10-01
        ("S83241", False),  # an injury without its 7th character
        ("E11", False),  # a category header
        ("X999", False),  # not a code
    ],
)
def test_diagnosis_billable_follows_the_code_set(code: str, billable: bool):
    assert codes.diagnosis_billable(code) is billable


def test_a_subdivided_code_no_longer_supports_the_procedure():
    assert codes.diagnosis_supports("70553", ("G35A",))
    assert not codes.diagnosis_supports("70553", ("G35",))


def test_the_members_history_at_the_payer_as_of_submission():
    """The payer's latest payment for the member and the member's not-covered denials count
    from their adjudication day on, for this member at this payer only."""
    history = [
        claim(claim_id="H1", service_date="2026-01-10", submission_date="2026-01-12"),
        claim(claim_id="H2", service_date="2026-03-02", submission_date="2026-03-04"),
        claim(claim_id="H3", service_date="2026-04-01", submission_date="2026-04-03"),
        claim(claim_id="H4", service_date="2026-05-01", submission_date="2026-05-03"),
        claim(claim_id="H5", service_date="2026-06-01", submission_date="2026-06-03",
              member_id="OTHER1"),
    ]  # fmt: skip
    outcomes = Outcomes(
        np.array([day_number(d) for d in ("2026-02-01", "2026-03-20", "2026-10-20", "2026-05-20",
                                    "2026-06-20")]),
        np.array([False, True, False, True, False]),
        np.array([None, "non_covered", None, "non_covered", None], dtype=object),
    )  # fmt: skip
    state = fit_state(build_facts(batch_from_requests(history)), outcomes)
    request = claim(service_date="2026-10-02", submission_date="2026-10-05")
    x = compute_features(build_facts(batch_from_requests([request])), state).iloc[0]
    # H3 was paid after the request's submission and H5 is another member's
    assert x["elig_days_since_paid_service"] == day_number("2026-10-02") - day_number("2026-01-10")
    assert x["noncov_member_prior_denials"] == 2
    assert math.isnan(one()["elig_days_since_paid_service"])  # never paid: unknown
