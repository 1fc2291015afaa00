"""A reason's category follows what the payer says: the category map learned from denials."""

from __future__ import annotations

import numpy as np

from features.categories import CATEGORIES
from features.rules import REGISTRY
from scoring.category_map import CategoryMap

DECLARED = {
    "medn_unsupported_lines": "medical_necessity",
    "auth_lines_without_auth": "authorization",
}


def _denials(payer: str, driver: int, category: str, n: int) -> tuple:
    shap = np.zeros((n, 3))
    shap[:, driver] = 1.2  # the driving feature; the last column is the base value
    shap[:, 1 - driver] = 0.05
    return shap, np.full(n, payer, dtype=object), np.full(n, category, dtype=object)


def _fit(*groups: tuple) -> CategoryMap:
    shap, payers, category = (np.concatenate(parts) for parts in zip(*groups, strict=True))
    return CategoryMap.fit(shap, payers, category, DECLARED)


def test_a_payer_that_files_diagnosis_support_under_coding_gets_coding_reasons():
    fitted = _fit(
        _denials("CODES-11", 0, "coding", 40),
        _denials("CODES-50", 0, "medical_necessity", 40),
        _denials("CODES-50", 1, "authorization", 40),
    )
    assert fitted.category("medn_unsupported_lines", "CODES-11") == "coding"
    assert fitted.category("medn_unsupported_lines", "CODES-50") == "medical_necessity"
    assert fitted.category("medn_unsupported_lines", "UNSEEN") == "medical_necessity"
    assert fitted.category("auth_lines_without_auth", "CODES-11") == "authorization"


def test_without_a_majority_or_enough_denials_the_rule_keeps_its_category():
    few = _fit(_denials("SMALL", 0, "coding", 20), _denials("BIG", 0, "medical_necessity", 60))
    assert few.category("medn_unsupported_lines", "SMALL") == "medical_necessity"
    split = _fit(
        _denials("MIXED", 0, "coding", 20),
        _denials("MIXED", 0, "documentation", 20),
        _denials("MIXED", 0, "non_covered", 20),
    )
    assert split.category("medn_unsupported_lines", "MIXED") == "medical_necessity"


def test_a_payers_word_is_pooled_over_the_features_of_a_rule():
    """Each diagnosis feature drove too few of the payer's CO-11 denials to move alone; the
    rule's features together did, and the payer's other rules keep their words."""
    declared = {
        "medn_unsupported_lines": "medical_necessity",
        "medn_payer_diagnosis_rate": "medical_necessity",
        "auth_lines_without_auth": "authorization",
        "other_payer_rate": "other",
    }
    groups = []
    for driver, category in enumerate(["coding", "coding", "authorization", "coding"]):
        shap = np.zeros((4 if driver < 2 else 30, len(declared) + 1))
        shap[:, driver] = 1.2
        groups.append((shap, np.full(len(shap), "CODES-11", dtype=object),
                       np.full(len(shap), category, dtype=object)))  # fmt: skip
    shap, payers, category = (np.concatenate(parts) for parts in zip(*groups, strict=True))
    fitted = CategoryMap.fit(shap, payers, category, declared)
    assert fitted.category("medn_unsupported_lines", "CODES-11") == "coding"
    assert fitted.category("medn_payer_diagnosis_rate", "CODES-11") == "coding"
    assert fitted.category("auth_lines_without_auth", "CODES-11") == "authorization"
    alone = CategoryMap.fit(shap[:4], payers[:4], category[:4], declared, min_payer_denials=4)
    assert alone.category("medn_unsupported_lines", "CODES-11") == "medical_necessity"


def test_summing_per_category_keeps_every_contribution_and_survives_json():
    fitted = _fit(
        _denials("CODES-11", 0, "coding", 40), _denials("CODES-50", 0, "medical_necessity", 60)
    )
    restored = CategoryMap.from_json(fitted.to_json())
    shap = np.array([[0.7, 0.2, -1.0], [0.7, 0.2, -1.0]])
    payers = np.array(["CODES-11", "OTHER"], dtype=object)
    by_category = restored.by_category(shap, np.zeros((2, 2)), payers)
    np.testing.assert_allclose(by_category.sum(axis=1), shap[:, :-1].sum(axis=1))
    assert by_category[0, CATEGORIES.index("coding")] == 0.7
    assert by_category[1, CATEGORIES.index("medical_necessity")] == 0.7


def test_the_reason_takes_the_payers_category_and_the_finding_rules_words(trained):
    """The payer files a diagnosis that does not support the procedure as coding (CO-11): the
    reason is coding, its evidence and fix those of the rule that found the problem."""
    from dataclasses import replace

    from scoring.scorer import Scorer
    from tests.claims import claim

    model = trained.model
    declared = CategoryMap.declared(model.state.categories)
    moved = {name: "coding" for name in declared.feature_names if name.startswith("medn_")}
    unsupported = claim(diagnosis_codes=["J06.9"])
    payer = unsupported.payer_id
    mapped = replace(model, category_map=replace(declared, by_payer={payer: moved}))
    (as_declared,) = Scorer(model, "1", "test").score([unsupported])
    (as_the_payer_says,) = Scorer(mapped, "1", "test").score([unsupported])
    assert "medical_necessity" in [r.category for r in as_declared.reasons]
    coding = next(r for r in as_the_payer_says.reasons if r.category == "coding")
    assert "medical_necessity" not in [r.category for r in as_the_payer_says.reasons]
    assert any("do not support it" in note for note in coding.evidence)
    assert as_the_payer_says.denial_probability == as_declared.denial_probability


def test_a_reason_the_payer_maps_no_feature_to_still_has_evidence(trained):
    """Where a payer's map moves every feature of a rule elsewhere, a reason of that category
    (its weight from identity features) still names one of the rule's own features."""
    from dataclasses import replace

    from features.batch import batch_from_requests
    from features.facts import build_facts
    from features.pipeline import feature_matrix
    from features.rules import ClaimView, ScoredBatch
    from scoring.scorer import Scorer
    from tests.claims import claim

    model = trained.model
    rules = model.state.categories
    declared = CategoryMap.declared(rules)
    moved = {n: "coding" for n in declared.feature_names if rules[n] == "medical_necessity"}
    request = claim(diagnosis_codes=["J06.9"])
    mapped = replace(model, category_map=replace(declared, by_payer={request.payer_id: moved}))
    facts = build_facts(batch_from_requests([request]))
    x = feature_matrix(facts, model.state)
    values = dict(zip(model.feature_names, x[0].tolist(), strict=True))
    view = ClaimView(request, ScoredBatch(facts, model.state.fitted), 0, values)
    shap = model.contributions(x)[0].tolist()
    note = Scorer(mapped, "1", "test")._strongest_feature("medical_necessity", view, shap)
    descriptions = [f.description for f in REGISTRY if f.category == "medical_necessity"]
    assert note.split(": ")[0] in descriptions
