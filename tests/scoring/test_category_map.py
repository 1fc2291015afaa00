"""A reason's category follows what the payer says: the category map learned from denials."""

from __future__ import annotations

import numpy as np

from features.categories import CATEGORIES
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
