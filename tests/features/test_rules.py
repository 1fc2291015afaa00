"""The rule modules: each category declared once, its evidence speaking for its features, its
fix clearing them; a new rule is one module; the refactor left the feature matrix unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import numpy as np
import pytest

from features.batch import batch_from_requests
from features.categories import CATEGORIES
from features.contract import ClaimIn
from features.facts import Facts, build_facts
from features.learned import FittedRate, Outcomes
from features.pipeline import FeatureState, feature_matrix, fit_state
from features.registry import Feature, Fitted
from features.rules import REGISTRY, RULES, ClaimView, ScoredBatch
from tests.claims import EXAMPLE, claim, day_number


def _state(facts: Facts) -> FeatureState:
    n = facts.n_claims
    nothing = Outcomes(np.full(n, -1), np.zeros(n, bool), np.full(n, None, dtype=object))
    return fit_state(facts, nothing)


def view_of(request: ClaimIn) -> ClaimView:
    """The claim as a rule's evidence and fix see it, with learners fitted on nothing."""
    return _learned_view(request, _state(build_facts(batch_from_requests([request]))))


def test_every_category_is_one_rule_and_every_feature_has_its_rule():
    assert list(RULES) == list(CATEGORIES)
    assert {f.category for f in REGISTRY} <= set(RULES)
    for category, rule in RULES.items():
        assert rule.category == category and rule.title and rule.action and rule.carcs


# A claim changed so one rule applies; the feature that fires; words its evidence must hold.
CASES = [
    pytest.param(
        "eligibility",
        {"eligibility": {**EXAMPLE["eligibility"], "status": "inactive"}},
        "elig_check_inactive",
        "said inactive",
        id="eligibility-inactive",
    ),
    pytest.param(
        "authorization",
        {"authorizations": [{**EXAMPLE["authorizations"][0], "provider_npi": "1497758544"}]},
        "auth_other_provider",
        "names provider 1497758544",
        id="authorization-other-provider",
    ),
    pytest.param(
        "coding",
        {
            "lines": [
                {**EXAMPLE["lines"][0], "modifiers": []},
                {**EXAMPLE["lines"][1], "procedure_code": "20610"},
            ]
        },
        "coding_em_with_procedure_no_25",
        "no modifier 25",
        id="coding-modifier-25",
    ),
    pytest.param(
        "documentation",
        {"total_charge": 500.0},
        "doc_charge_mismatch",
        "differs from the lines",
        id="documentation-charge",
    ),
    pytest.param(
        "credentialing",
        {"provider_enrollment": {"effective_date": "2026-10-04", "end_date": None}},
        "cred_not_enrolled_on_service_date",
        "effective 2026-10-04",
        id="credentialing-not-yet-enrolled",
    ),
    pytest.param(
        "timely_filing",
        {"submission_date": "2027-03-01"},
        "filing_days_past_typical_limit",
        "submitted 150 days after service",
        id="timely-filing",
    ),
    pytest.param(
        "medical_necessity",
        {"diagnosis_codes": ["J06.9"]},
        "medn_unsupported_lines",
        "do not support it",
        id="medical-necessity",
    ),
]


@pytest.mark.parametrize(("category", "changes", "name", "words"), CASES)
def test_rule_contract_fires_explains_and_fix_clears(category, changes, name, words):
    clean, changed = view_of(claim()), view_of(claim(**changes))
    assert clean.values[name] <= 0 < changed.values[name], "the feature fires on the change"
    rule = RULES[category]
    assert any(words in note for note in rule.evidence(changed)), rule.evidence(changed)
    if rule.fix is not None:
        fix = rule.fix(changed)
        assert fix is not None
        assert view_of(fix[1]).values[name] <= 0, f"{fix[0]} leaves {name} firing"


def test_sex_evidence_speaks_whenever_the_feature_counts_a_line():
    """Unknown sex counts as a conflict for a sex-specific code: the evidence says so."""
    mammogram = {**EXAMPLE["lines"][1], "procedure_code": "77067", "line_number": 2}
    view = view_of(claim(patient_sex=None, lines=[EXAMPLE["lines"][0], mammogram]))
    assert view.values["coding_sex_conflict"] == 1
    assert "77067 is for sex F; patient sex unknown" in RULES["coding"].evidence(view)


def test_age_evidence_uses_the_line_date_like_the_feature():
    """39 on the claim's service date, 40 on the line's: the preventive code for 18-39 fails
    on the line's date, and the evidence says so with the age on that date."""
    visit = {**EXAMPLE["lines"][0], "procedure_code": "99385", "modifiers": [],
             "service_date": "2025-06-15"}  # fmt: skip
    view = view_of(
        claim(
            patient_birth_date="1985-06-10",
            service_date="2025-06-01",
            submission_date="2025-06-20",
            lines=[visit],
            total_charge=180.0,
        )
    )
    assert view.values["coding_age_conflict"] == 1
    notes = RULES["coding"].evidence(view)
    assert "99385 is for ages 18-39; the patient is 40 on its date of service" in notes


def test_a_new_rule_is_one_module(monkeypatch: pytest.MonkeyPatch):
    """A toy coding rule, declared in one place (its feature and its sentence), flows through
    the feature state, the matrix and the reasons' evidence with nothing else touched."""

    def weekend_service(f: Facts, _: Fitted) -> np.ndarray:
        return ((f.claims["svc_day"] + 3) % 7 >= 5).astype(float)  # day 0 was a Thursday

    def evidence(view: ClaimView) -> list[str]:
        notes = coding_evidence(view)
        if view.values["coding_weekend_service"] == 1:
            notes.append(f"service on a weekend ({view.claim.service_date})")
        return notes

    coding_evidence = RULES["coding"].evidence
    toy = Feature("coding_weekend_service", "coding", "Service on a weekend", weekend_service)
    monkeypatch.setitem(REGISTRY.features, toy.name, toy)
    monkeypatch.setitem(RULES, "coding", dataclasses.replace(RULES["coding"], evidence=evidence))

    view = view_of(claim(service_date="2026-10-03", submission_date="2026-10-05"))  # Saturday
    assert view.values["coding_weekend_service"] == 1
    assert "service on a weekend (2026-10-03)" in RULES["coding"].evidence(view)
    assert view_of(claim()).values["coding_weekend_service"] == 0  # a Friday


# The feature matrix of one simulated world: the rules' move into their modules left it as it
# was at c9f7be6 (38bee457...); it changed on purpose when the identity features were added,
# and when elig_member_id_changed was (the other columns kept their 0ada2e58... digest), and
# when elig_days_since_paid_service and noncov_member_prior_denials were (the others kept
# 72be5a4d...), coding_payer_pattern_rate (the others kept 83736685...) and
# medn_payer_diagnosis_rate (the others kept a04737aa...), and when a learned rate's outcomes
# were weighted by their age at the key's latest outcome (the rate columns only), and when
# noncov_repeat_excess was added (the others kept 6bea7c00...). Refactors of the feature code
# must leave it identical; a change of features updates it here.
GOLDEN_SHA = "ab19ebabbf5e810ee551a1d63689b979015cfd376f36ab566cd3bd877ef5a69c"


def test_feature_matrix_is_unchanged_on_a_fixed_world(tmp_path):
    from features.history import load_history
    from simulator import simulate
    from training.dataset import build_dataset

    simulate(tmp_path, 8000, seed=11, requests=100, months=12)
    matrix = build_dataset(load_history(tmp_path / "history")).features.to_numpy(float)
    matrix = np.round(np.where(np.isnan(matrix), -999.0, matrix), 9)
    assert matrix.shape == (8000, len(REGISTRY.names()))
    assert hashlib.sha256(matrix.tobytes()).hexdigest() == GOLDEN_SHA


def test_eligibility_evidence_names_a_changed_member_id():
    view = view_of(claim())
    assert not any("member id differs" in note for note in RULES["eligibility"].evidence(view))
    view.values["elig_member_id_changed"] = 1.0  # learned from earlier submissions
    assert "member id differs" in RULES["eligibility"].evidence(view)[0]


def test_evidence_names_what_the_payer_did_with_the_members_earlier_claims():
    history = [
        claim(claim_id="H1", service_date="2025-06-01", submission_date="2025-06-03"),
        claim(claim_id="H2", service_date="2025-07-01", submission_date="2025-07-03"),
        claim(claim_id="H3", member_id="OTHER1", service_date="2026-09-01",
              submission_date="2026-09-03"),
    ]  # fmt: skip
    adjudicated = [day_number(d) for d in ("2025-07-01", "2025-08-01", "2026-09-30")]
    outcomes = Outcomes(
        np.array(adjudicated),
        np.array([False, True, False]),
        np.array([None, "non_covered", None], dtype=object),
    )
    state = fit_state(build_facts(batch_from_requests(history)), outcomes)
    view = _learned_view(claim(), state)
    # measured to the history's last adjudication (2026-09-30), not to the service
    assert view.values["elig_days_since_paid_service"] == 486
    assert (
        "the latest service of this member that payer 60054 paid is dated 2025-06-01; "
        "service 2026-10-02" in RULES["eligibility"].evidence(view)
    )
    assert "1 earlier not-covered denial(s)" in RULES["non_covered"].evidence(view)[-1]
    assert not any("paid is dated" in n for n in RULES["eligibility"].evidence(view_of(claim())))


def test_a_payers_coding_edit_is_learned_from_how_its_lines_were_billed():
    """Lines billed alike (code, units, modifiers, the claim's other codes) share a learned
    coding-denial rate; the evidence names the line and how it was billed."""
    visit, imaging = EXAMPLE["lines"]
    two_units = [visit, {**imaging, "units": 2}]
    history = [
        claim(claim_id=f"H{i}", patient_id=f"P{i}", lines=two_units if i % 2 else [imaging],
              service_date="2026-03-02", submission_date="2026-03-04")
        for i in range(80)
    ]  # fmt: skip
    denied = np.arange(80) % 2 == 1
    adjudicated = day_number("2026-03-20")
    outcomes = Outcomes(
        np.full(80, adjudicated), denied, np.where(denied, "coding", None).astype(object)
    )
    facts = build_facts(batch_from_requests(history))
    assert facts.lines["line_pattern"][:3].tolist() == ["1||", "1|25|72148", "2||99214"]
    state = fit_state(facts, outcomes)
    same = _learned_view(claim(lines=two_units), state)
    alone = _learned_view(claim(lines=[imaging]), state)
    assert (
        same.values["coding_payer_pattern_rate"] > 0.5 > alone.values["coding_payer_pattern_rate"]
    )
    assert (
        "line 2: 72148 billed as here (2 units, no modifier, with 99214) drew coding denials on "
        "100% of recent lines (at payer 60054, and at other payers where it has few)"
        in RULES["coding"].evidence(same)
    )
    assert not any("billed as here" in note for note in RULES["coding"].evidence(alone))


def _learned_view(request: ClaimIn, state: FeatureState) -> ClaimView:
    """The request as its rules see it, with learners fitted on a given history."""
    facts = build_facts(batch_from_requests([request]))
    values = dict(zip(state.feature_names, feature_matrix(facts, state)[0].tolist(), strict=True))
    return ClaimView(request, ScoredBatch(facts, state.fitted), 0, values)


def test_a_payers_diagnosis_policy_is_learned_from_the_pointed_diagnoses():
    """A code denied for its pointed diagnoses (as medical necessity or as coding, whichever
    the payer says) is risky again with the same diagnoses, not with others."""
    imaging = EXAMPLE["lines"][1]  # points at M54.50 and M51.26
    history = [
        claim(claim_id=f"H{i}", patient_id=f"P{i}", service_date="2026-03-02",
              submission_date="2026-03-04",
              lines=[{**imaging, "diagnosis_pointers": [1] if i % 2 else [2]}])
        for i in range(40)
    ]  # fmt: skip
    denied = np.arange(40) % 2 == 1
    adjudicated = day_number("2026-03-20")
    category = np.where(np.arange(40) % 4 == 1, "coding", "medical_necessity")
    outcomes = Outcomes(
        np.full(40, adjudicated), denied, np.where(denied, category, None).astype(object)
    )
    facts = build_facts(batch_from_requests(history))
    assert facts.lines["pointed_dx"][:2].tolist() == ["M5126", "M5450"]
    state = fit_state(facts, outcomes)
    first = _learned_view(claim(lines=[{**imaging, "diagnosis_pointers": [1]}]), state)
    second = _learned_view(claim(lines=[{**imaging, "diagnosis_pointers": [2]}]), state)
    assert (
        first.values["medn_payer_diagnosis_rate"] > 0.5 > second.values["medn_payer_diagnosis_rate"]
    )
    assert (
        "line 2: 72148 pointed at M5450 drew medical-necessity or coding denials on 98% of "
        "recent lines (at payer 60054, and at other payers where it has few)"
        in RULES["medical_necessity"].evidence(first)
    )
    assert not any("drew" in n for n in RULES["medical_necessity"].evidence(second))


def test_a_seasonal_codes_rate_keeps_last_seasons_denials():
    """Denials nothing newer replaced keep their weight against the code's rate at other
    payers (a flu shot's edit read a year later); newer outcomes still outweigh them."""
    shot = {**EXAMPLE["lines"][0], "procedure_code": "90471", "modifiers": []}

    def billed(i: int, payer: str, day: str) -> ClaimIn:
        return claim(claim_id=f"H{i}", patient_id=f"P{i}", payer_id=payer, lines=[shot],
                     service_date=day, submission_date=day)  # fmt: skip

    last_season = [billed(i, "60054", "2025-10-06") for i in range(20)]
    elsewhere = [billed(20 + i, "77027", "2026-08-03") for i in range(200)]
    paid_since = [billed(220 + i, "60054", "2026-08-03") for i in range(20)]

    def rate(history: list[ClaimIn]) -> float:
        denied = np.arange(len(history)) < 20
        adjudicated = [day_number(c.submission_date.isoformat()) + 15 for c in history]
        outcomes = Outcomes(
            np.array(adjudicated), denied, np.where(denied, "coding", None).astype(object)
        )
        state = fit_state(build_facts(batch_from_requests(history)), outcomes)
        return _learned_view(claim(lines=[shot]), state).values["coding_payer_code_rate"]

    assert rate(last_season + elsewhere) > 0.75
    assert rate(last_season + elsewhere + paid_since) < 0.25


def test_a_payers_frequency_limit_is_learned_from_denied_repeats(monkeypatch):
    """A code the payer paid for the member earlier in the year, then denied as not covered
    when billed again, is risky the next time it repeats (more than repeats of other codes):
    not for a member without one."""
    wellness = {**EXAMPLE["lines"][0], "procedure_code": "99396", "modifiers": []}
    visit = {**EXAMPLE["lines"][0], "modifiers": []}
    first = [
        claim(claim_id=f"F{i}", patient_id=f"P{i}", member_id=f"M{i}",
              lines=[wellness if i < 30 else visit],
              service_date="2026-02-02", submission_date="2026-02-03")
        for i in range(60)
    ]  # fmt: skip
    repeat = [
        c.model_copy(update={"claim_id": f"R{i}", "service_date": dt.date(2026, 5, 4),
                             "submission_date": dt.date(2026, 5, 5)})
        for i, c in enumerate(first)
    ]  # fmt: skip
    adjudicated = [day_number("2026-02-20")] * 60 + [day_number("2026-05-20")] * 60
    denied = np.arange(120) >= 60
    denied[90:] = False  # the visits' repeats were paid
    outcomes = Outcomes(
        np.array(adjudicated), denied, np.where(denied, "non_covered", None).astype(object)
    )
    state = fit_state(build_facts(batch_from_requests(first + repeat)), outcomes)
    again = _learned_view(claim(patient_id="P3", member_id="M3", lines=[wellness]), state)
    new = _learned_view(claim(patient_id="P99", member_id="M99", lines=[wellness]), state)
    visit_again = _learned_view(claim(patient_id="P33", member_id="M33", lines=[visit]), state)
    assert again.values["noncov_repeat_excess"] > 0.1
    assert new.values["noncov_repeat_excess"] == 0
    assert visit_again.values["noncov_repeat_excess"] == 0  # nothing known of its third visit
    assert (
        "line 1: payer 60054 already paid 99396 for this member (1 paid this calendar year, "
        "the latest dated 2026-02-02) and recently denied 99% of such repeats"
        in RULES["non_covered"].evidence(again)
    )
    assert not any("repeats" in note for note in RULES["non_covered"].evidence(new))
    # a rate above the rate of all repeats by rounding only is no excess (small histories
    # grew trees on such 1e-19 values)
    learned = state.fitted["noncov_repeat_rate"]
    monkeypatch.setattr(FittedRate, "root", lambda _, facts: learned.lookup(facts) - 1e-12)
    assert np.nan_to_num(learned.excess(again.facts)).max() == 0
