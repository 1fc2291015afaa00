"""Identity features: what a claim is (payer, plan, place of service, codes) as levels."""

from __future__ import annotations

import numpy as np

from features.batch import batch_from_requests
from features.facts import build_facts
from features.learned import Outcomes, Vocabulary
from tests.claims import EXAMPLE, claim


def _facts(*claims):
    return build_facts(batch_from_requests(list(claims)))


def test_frequent_values_get_levels_rare_ones_share_one_unknown_is_nan():
    common = [claim(claim_id=f"C{i}", payer_id="60054") for i in range(3)]
    facts = _facts(*common, claim(claim_id="R", payer_id="99999"))
    nothing = Outcomes(np.full(4, -1), np.zeros(4, bool), np.full(4, None, dtype=object))
    vocabulary = Vocabulary("payer_id", min_count=2).fit(facts, nothing)
    assert vocabulary.levels == {"60054": 0}
    new = _facts(claim(payer_id="60054"), claim(payer_id="12345"))
    np.testing.assert_array_equal(vocabulary.lookup(new), [0.0, 1.0])


def test_primary_code_is_the_highest_charged_line_and_the_pair_is_sorted():
    lines = [
        {**EXAMPLE["lines"][0], "line_charge": 180.0},
        {**EXAMPLE["lines"][1], "line_charge": 240.0},
        {**EXAMPLE["lines"][1], "line_number": 3, "line_charge": 240.0},
    ]
    facts = _facts(claim(lines=lines, total_charge=660.0))
    assert facts.claims["primary_code"].tolist() == ["72148"]
    assert facts.claims["code_pair"].tolist() == ["72148+99214"]


def test_the_model_splits_identity_features_as_categories(trained):
    booster = trained.model.booster
    names = booster.feature_name()
    dumped = booster.dump_model()
    infos = dumped["feature_infos"]
    categorical = {name for name in names if infos.get(name, {}).get("values")}
    assert {n for n in names if n.startswith("id_")} >= categorical
    assert categorical, "at least one identity feature is split as a category"
