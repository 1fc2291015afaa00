import pandas as pd
import pytest

from features.categories import CATEGORIES
from features.labels import label_outcome, label_outcomes
from features.rules import CARC_CATEGORY, RULES


@pytest.mark.parametrize(
    ("status", "adjustments", "denied", "category"),
    [
        ("1", ["CO-45", "PR-1", "PR-2"], False, None),  # contractual + patient share: paid
        ("1", ["CO-197"], True, "authorization"),
        ("1", ["PR-197"], False, None),  # PR is not a denial group
        ("2", ["OA-18"], True, "duplicate"),
        ("1", ["PI-B7"], True, "credentialing"),
        ("4", [], True, "other"),  # CLP02=4 with no listed CARC
        ("4", ["CO-29"], True, "timely_filing"),
        ("4", ["CO-999"], True, "other"),  # unlisted CARC on a denied claim
        ("1", ["CO-999"], False, None),  # unlisted CARC alone is not a denial
        ("1", ["CO-45", "CO-16", "CO-197"], True, "documentation"),  # first denial CARC
        ("22", ["CO-45"], False, None),
        ("1", ["CO-253", "CO-59", "CO-A2"], False, None),
    ],
)
def test_label_outcome(status, adjustments, denied, category):
    label = label_outcome(status, adjustments)
    assert (label.denied, label.category) == (denied, category)


def test_every_category_has_carcs_and_words():
    assert list(RULES) == list(CATEGORIES)
    for rule in RULES.values():
        assert rule.carcs and rule.title and rule.action
    assert len(CARC_CATEGORY) == sum(len(r.carcs) for r in RULES.values())


def test_label_outcomes_counts_unlisted_carcs_but_not_routine_ones():
    outcomes = pd.DataFrame(
        {
            "claim_id": ["a", "b", "c"],
            "claim_status_code": ["1", "4", "1"],
            "adjustments": [["CO-45", "PR-2"], ["CO-999"], ["CO-999", "OA-777"]],
        }
    )
    summary = label_outcomes(outcomes)
    assert summary.labels["denied"].tolist() == [False, True, False]
    assert summary.labels["denial_category"].tolist()[1] == "other"
    assert summary.unlisted_carcs == {"999": 2, "777": 1}
