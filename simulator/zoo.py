"""The zoo: named worlds whose mechanisms differ from the default world's, not only its seed.

Each world is a ``Dialect`` (``simulator.dialects``) built by a function of the same
name; its docstring is the world's description (written into world.json). Select one with
``claimrisk simulate --dialect NAME`` or ``simulate(..., dialect=world("NAME"))``;
``benchmarks/generalization.py`` trains and scores on every one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace

from simulator.dialects import Dialect, RuleChange

WORLDS: dict[str, Dialect] = {}


def _register(build: Callable[[], Dialect]) -> Callable[[], Dialect]:
    WORLDS[build.__name__] = replace(
        build(), name=build.__name__, description=inspect.cleandoc(build.__doc__ or "")
    )
    return build


def world(name: str) -> Dialect:
    """The named world's dialect."""
    try:
        return WORLDS[name]
    except KeyError:
        raise KeyError(f"no world {name!r}; the zoo has {', '.join(WORLDS)}") from None


@_register
def carc_conventions() -> Dialect:
    """Payers report causes with their own CARCs: two commercial payers deny a procedure the
    pointed diagnoses do not support as CO-11 (coding) instead of CO-50, a Medicare Advantage
    plan denies unreceived records as CO-50 (medical necessity), Medicaid a missing attachment
    as CO-16 and one PPO a missing authorization number as CO-16 (documentation)."""
    return Dialect(
        carc={
            ("00590", "diagnosis_not_supporting"): "11",
            ("87726", "diagnosis_not_supporting"): "11",
            ("61101", "records_not_received"): "50",
            ("77027", "missing_attachment"): "16",
            ("60054", "auth_number_missing"): "16",
        }
    )


@_register
def unknown_auth_rule() -> Dialect:
    """Two payers start requiring prior authorization for therapy codes without telling the
    practice (Evergreen for 97110 from 55% of the history, Bluebonnet for 97140 from 65%):
    the practice's auth log never covers them."""
    return Dialect(
        rules=(
            RuleChange("60054", "97110", "prior_authorization_required", at=0.55),
            RuleChange("00590", "97140", "prior_authorization_required", at=0.65),
        )
    )


@_register
def new_limits() -> Dialect:
    """Payers add edits mid-history: Evergreen pays at most 2 units of 97110 per line,
    Medicaid 1 unit of 97140, Keystone (lax until then) denies every 99213 billed with a
    minor procedure without modifier 25, and Summit and Evergreen cover one 99396 preventive
    visit per patient per calendar year."""
    return Dialect(
        rules=(
            RuleChange("60054", "97110", "units_limit", at=0.5, limit=2),
            RuleChange("77027", "97140", "units_limit", at=0.6, limit=1),
            RuleChange("62308", "99213", "modifier_25_required", at=0.55),
            RuleChange("87726", "99396", "frequency_limit", at=0.4, limit=1),
            RuleChange("60054", "99396", "frequency_limit", at=0.45, limit=1),
        )
    )


@_register
def dirty_exports() -> Dialect:
    """The PM system's context exports are dirty: 3% of authorizations keyed with start and
    end swapped (the payer denies them too), 3% of claims carrying a mistyped authorization
    number, 15% of checks and authorizations missing coverage dates or units, 30% of
    'inactive' checks exported as the cached 'active' answer, 5% of coverage spans swapped."""
    return Dialect(
        reversed_auth_dates=0.03,
        auth_number_typos=0.03,
        missing_context=0.15,
        stale_checks=0.3,
        reversed_coverage=0.05,
    )


@_register
def quick_duplicates() -> Dialect:
    """Billers resubmit 2.5% of claims one to three days after the first copy, before any
    answer: the first copy is then often another recent request, not in the history."""
    return Dialect(duplicate_rate=0.025, quick_duplicates=True)


@_register
def credentialing_lapses() -> Dialect:
    """8% of providers' enrollments with payers that check lapse for 30 to 120 days (a
    missed re-credentialing) and are renewed; the roster shows the ended and renewed rows."""
    return Dialect(credential_lapses=0.08)


@_register
def tiny_practice() -> Dialect:
    """One practice with a few hundred patients: 2,200 history claims, whatever size is
    asked for."""
    return Dialect(practices=1, claims=2200)


@_register
def mostly_medicare() -> Dialect:
    """A practice whose patients are mostly on Medicare (55%) or Medicare Advantage (30%),
    whatever their age."""
    return Dialect(
        plan_mix={"medicare": 0.55, "medicare_advantage": 0.3, "commercial": 0.1, "medicaid": 0.05}
    )


@_register
def mostly_medicaid() -> Dialect:
    """A safety-net practice: 70% of patients on Medicaid managed care."""
    return Dialect(
        plan_mix={"medicaid": 0.7, "commercial": 0.2, "medicare": 0.05, "medicare_advantage": 0.05}
    )


@_register
def tiny_mixed() -> Dialect:
    """A tiny practice (2,200 history claims) whose payers use their own CARCs, change rules
    unannounced, and whose exports are dirty: the hardest world of the zoo."""
    return replace(
        WORLDS["dirty_exports"],
        practices=1,
        claims=2200,
        carc=WORLDS["carc_conventions"].carc,
        rules=WORLDS["unknown_auth_rule"].rules + WORLDS["new_limits"].rules,
    )
