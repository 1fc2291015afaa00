"""The denial-analytics report: one self-contained HTML page an analyst can open offline.

Emerging patterns come first, then the first-pass figures against the industry goals, the
monthly trend, denials by category, root causes, payers, procedure codes and providers, and
the days to adjudication; with a model, what it says about the recent claims. Every number is
one of the pure functions of ``kpis``/``patterns`` applied to the history's tables. The page
names payers, codes, providers (NPIs are public) and categories, never a patient, member or
diagnosis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from analytics import charts, kpis
from analytics import page as P
from analytics.adjustment_codes import carc_description
from analytics.explanations import explanation_summary
from analytics.patterns import PatternSettings, count_cells, find_patterns, watch_list
from analytics.tables import claim_codes, claim_outcomes, payer_names, with_codes
from features.history import History, known_at
from scoring.artifact import ClaimRiskModel

TOP = 20
NAV = (
    ("patterns", "Emerging patterns"),
    ("first-pass", "First pass"),
    ("trend", "Trend"),
    ("categories", "Categories"),
    ("root-causes", "Root causes"),
    ("payers", "Payers"),
    ("codes", "Codes"),
    ("providers", "Providers"),
    ("lag", "Days to adjudication"),
)
RATE_COLUMNS = (
    ("adjudicated", "adjudicated", P.integer),
    ("pending", "pending", P.integer),
    ("denied", "denied", P.integer),
    ("denial_rate", "denial rate", P.percent),
    ("denied_charge", "denied charge", P.dollars),
)
NUMERIC = (
    "adjudicated",
    "pending",
    "denied",
    "denial_rate",
    "denied_charge",
    "submitted",
    "share_of_denials",
    "rate",
    "recent_days",
    "recent_claims",
    "recent_denied",
    "recent_rate",
    "baseline_rate",
    "recent_denied_charge",
    "q_value",
    "reason_claims",
    "reason_share",
    "top_reason_claims",
    "mean_contribution",
    "mean_probability",
    "denied_in_category",
)


def patterns_section(
    history: History, settings: PatternSettings | None = None, names: dict[str, str] | None = None
) -> str:
    """Alerts and the watch list; ``names`` puts a payer's name beside its cells."""
    settings = settings or PatternSettings()
    payer = [("payer_name", "payer", None)] if names else []
    counts = count_cells(history, settings.kinds)
    alerts = find_patterns(
        history, window_days=settings.window_days, settings=settings, counts=counts
    )
    windows = ", ".join(str(d) for d in settings.windows)
    method = P.note(
        f"Cells (payer x code, payer x denial category, provider x payer) whose denial rate "
        f"over the claims adjudicated in the last {windows} days to {alerts.attrs['as_of']} "
        f"rose above their own previous {settings.baseline_days} days: beta-binomial test "
        f"against a baseline shrunk toward the payer (or category) as much as such cells "
        f"follow it, on the most significant window, Benjamini-Hochberg over the "
        f"{alerts.attrs['tested_cells']:,} cells tested (q <= {settings.alpha:.3f}: at most "
        f"{settings.false_alarms_per_year:g} false alert a year of weekly runs), at least "
        f"{settings.min_lift * 100:g} percentage points and {settings.min_ratio:g}x higher. "
        f"Strongest sure rise first."
    )
    if alerts.empty:
        body = P.note("No cell's denial rate rose significantly in the recent window.") + method
    else:
        body = method + P.table(
            alerts.assign(
                carc_description=alerts["top_carc"].map(carc_description),
                payer_name=alerts["payer_id"].map(names or {}),
            ),
            [
                ("label", "cell", None),
                *payer,
                ("recent_days", "last days", P.integer),
                ("recent_denied", "denied", P.integer),
                ("recent_claims", "claims", P.integer),
                ("recent_rate", "recent rate", P.percent),
                ("baseline_rate", "before", P.percent),
                ("recent_denied_charge", "denied charge", P.dollars),
                ("q_value", "q", lambda v: f"{v:.1e}"),
                ("first_significant", "alerting since", P.date),
                ("top_category", "main category", None),
                ("top_carc", "main CARC", None),
                ("carc_description", "CARC meaning", None),
            ],
            NUMERIC,
            "emerging-patterns",
        )
    watch = watch_list(counts, settings=settings)
    if len(watch):
        body += P.note("Watch list: rising cells nearest to an alert, not yet significant.")
        body += P.table(
            watch.assign(payer_name=watch["payer_id"].map(names or {})),
            [
                ("label", "cell", None),
                *payer,
                ("recent_denied", "denied", P.integer),
                ("recent_claims", "claims", P.integer),
                ("recent_rate", "recent rate", P.percent),
                ("baseline_rate", "before", P.percent),
                ("q_value", "q", lambda v: f"{v:.2g}"),
            ],
            NUMERIC,
            "watch-list",
        )
    return P.section("patterns", "Emerging patterns", body, "alerts")


def first_pass_section(claims: pd.DataFrame) -> str:
    fp = kpis.first_pass(claims)
    lag = kpis.adjudication_days(claims)
    low, high = fp.denial_rate_goal
    cards = "".join(
        [
            P.card(
                "First-pass clean-claim rate",
                P.percent(fp.clean_claim_rate),
                f"goal >= {fp.clean_claim_goal:.0%} ({fp.originals:,} original claims)",
                fp.meets_clean_claim_goal,
            ),
            P.card(
                "Denial rate",
                P.percent(fp.denial_rate),
                f"goal {low:.0%}-{high:.0%} or lower ({fp.denied:,} of {fp.adjudicated:,})",
                fp.meets_denial_rate_goal,
            ),
            P.card(
                "Denied charge",
                P.dollars(claims["denied_charge"].sum()),
                "billed charge of denied claims",
                None,
            ),
            P.card(
                "Pending",
                P.integer((~claims["adjudicated"]).sum()),
                "claims without an outcome yet",
                None,
            ),
            P.card(
                "Days to adjudication",
                f"{lag.median:.0f} median",
                f"p90 {lag.p90:.0f} days",
                None,
            ),
        ]
    )
    body = f'<div class="cards">{cards}</div>' + P.note(
        "Clean-claim rate: adjudicated original claims (frequency 1) not denied on first "
        "pass. Denial rate: denied over adjudicated claims, every frequency code. Pending "
        "claims are counted in neither."
    )
    return P.section("first-pass", "First pass against the goals", body)


def _completeness(row: pd.Series) -> str:
    return "complete" if row["complete"] else f"incomplete: {row['pending_share']:.0%} pending"


def trend_section(claims: pd.DataFrame) -> str:
    monthly = kpis.monthly_denial_rate(claims)
    months = [str(m.strftime("%Y-%m")) for m in monthly["month"]]
    monthly = monthly.assign(
        month=months, completeness=monthly.apply(_completeness, axis=1) if len(monthly) else []
    )
    complete = monthly[monthly["complete"]]
    low, high = kpis.DENIAL_RATE_GOAL
    chart = charts.line_chart(
        complete["month"].tolist(), complete["denial_rate"].tolist(), "denial rate", (low, high),
        "5-10% goal",
    )  # fmt: skip
    left_out = monthly.loc[~monthly["complete"], "month"].tolist()
    note = P.note(
        f"A month with more than {kpis.INCOMPLETE_PENDING:.0%} of its claims still pending is "
        "incomplete: its rate will move as outcomes arrive, so it is listed below but left out "
        "of the chart" + (f" ({', '.join(left_out)})." if left_out else "; none is.")
    )
    table = P.table(
        monthly,
        [("month", "submitted in", None), ("submitted", "submitted", P.integer), *RATE_COLUMNS,
         ("completeness", "month", None)],
        NUMERIC, "trend-by-month",
        row_class=lambda row: "" if row["complete"] else "incomplete",
    )  # fmt: skip
    body = P.figure(chart, "Denial rate by month of submission, complete months") + note + table
    return P.section("trend", "Denial rate over time", body)


def category_section(claims: pd.DataFrame) -> str:
    frame = kpis.denials_by_category(claims)
    chart = charts.bar_chart(
        frame["category"].tolist(), frame["share_of_denials"].tolist(), "share of denials", True
    )
    table = P.table(
        frame,
        [
            ("category", "category", None),
            ("title", "meaning", None),
            ("denied", "denied", P.integer),
            ("share_of_denials", "share of denials", P.percent),
            ("rate", "rate (of adjudicated)", P.percent),
            ("denied_charge", "denied charge", P.dollars),
        ],
        NUMERIC,
        "denials-by-category",
    )
    return P.section("categories", "Denials by category", P.figure(chart, "") + table)


def root_cause_section(claims: pd.DataFrame) -> str:
    frame = kpis.root_causes(claims)
    table = P.table(
        frame,
        [
            ("category", "category", None),
            ("carc", "CARC", None),
            ("carc_description", "CARC meaning", None),
            ("rarc", "most sent RARC", None),
            ("rarc_description", "RARC meaning", None),
            ("denied", "denied", P.integer),
            ("share_of_denials", "share", P.percent),
            ("denied_charge", "denied charge", P.dollars),
            ("action", "what staff fix", None),
        ],
        NUMERIC,
        "root-causes",
    )
    body = (
        P.note(
            "The first denial CARC of each denied claim, with its category, and the remark "
            "code (RARC) payers most sent with it; meanings from the X12 code lists."
        )
        + table
    )
    return P.section("root-causes", "Top root causes", body)


def rate_section(
    frame: pd.DataFrame,
    anchor: str,
    title: str,
    key: str,
    heading: str,
    names: dict[str, str] | None = None,
) -> str:
    """The top groups by denied charge; a group with fewer than ``kpis.MIN_ADJUDICATED``
    adjudicated claims shows its counts but no rate, and no bar."""
    frame = kpis.with_min_volume(frame)
    shown = frame.head(TOP).assign(name=lambda f: f[key].map(names or {}))
    rated = shown[shown["rated"]]
    chart = charts.bar_chart(
        rated[key].astype(str).tolist(), rated["denial_rate"].tolist(), "denial rate",
        True, marker=kpis.DENIAL_RATE_GOAL[1], marker_label="10% goal ceiling",
    )  # fmt: skip
    columns = [(key, heading, None), *([("name", "name", None)] if names else []),
               ("submitted", "submitted", P.integer), *RATE_COLUMNS]  # fmt: skip
    table = P.table(shown, columns, NUMERIC, anchor)
    unrated = int((~frame["rated"]).sum())
    note = P.note(
        f"Top {len(shown)} of {len(frame):,} by denied charge. A rate needs at least "
        f"{kpis.MIN_ADJUDICATED} adjudicated claims: {unrated:,} of the {len(frame):,} have "
        "fewer and show their counts only (no rate, no bar)."
    )
    return P.section(anchor, title, note + P.figure(chart, "") + table)


def lag_section(claims: pd.DataFrame) -> str:
    lag = kpis.adjudication_days(claims)
    chart = charts.histogram(lag.days, "days from submission to adjudication",
                             {"median": lag.median, "p90": lag.p90})  # fmt: skip
    body = P.note(
        f"{lag.n:,} adjudicated claims: median {lag.median:.0f} days, p90 {lag.p90:.0f} days, "
        f"mean {lag.mean:.1f} days."
    ) + P.figure(chart, "")
    return P.section("lag", "Days from submission to adjudication", body)


def model_section(history: History, model: ClaimRiskModel) -> str:
    frame = explanation_summary(history, model)
    version = model.meta.get("trained_at", "")
    window = model.meta.get("training_window", {})
    body = P.note(
        f"Model trained {version} on claims submitted {window.get('from', '?')} to "
        f"{window.get('to', '?')}; {frame['claims'].max() if len(frame) else 0:,} claims "
        f"submitted in the last {frame.attrs.get('days', 28)} days of the history, mean "
        f"predicted denial probability {frame.attrs.get('probability_mean', float('nan')):.1%}. "
        f"A category is a reason when its SHAP (log-odds) pushes toward denial by 0.15 or more."
    ) + P.table(
        frame,
        [
            ("category", "category", None),
            ("reason_claims", "claims with it as a reason", P.integer),
            ("reason_share", "share", P.percent),
            ("top_reason_claims", "as top reason", P.integer),
            ("mean_contribution", "mean log-odds", P.number),
            ("mean_probability", "mean probability", P.percent),
            ("denied_in_category", "denied in it (so far)", P.integer),
        ],
        NUMERIC,
        "model-reasons",
    )
    return P.section("model", "What the model says about recent claims", body)


def build_report(
    history: History,
    model: ClaimRiskModel | None = None,
    settings: PatternSettings | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> str:
    """The report as one HTML string (inline SVG charts, inline CSS, no external assets);
    with ``as_of``, the report as the history stood that day (claims submitted and outcomes
    adjudicated by then); ``progress`` hears each section as it starts (message, sections
    done, sections in all)."""
    if as_of is not None:
        history = known_at(history, pd.Timestamp(as_of))
    claims = claim_outcomes(history)
    coded = with_codes(claims, claim_codes(history))
    submitted = claims["submission_date"]
    builders: list[tuple[str, Callable[[], str]]] = [
        ("emerging patterns", lambda: patterns_section(history, settings, payer_names(claims))),
        ("first pass", lambda: first_pass_section(claims)),
        ("trend", lambda: trend_section(claims)),
        ("categories", lambda: category_section(claims)),
        ("root causes", lambda: root_cause_section(claims)),
        ("payers", lambda: rate_section(kpis.denial_rate_by(claims, "payer_id"), "payers",
                                        "By payer", "payer_id", "payer", payer_names(claims))),
        ("codes", lambda: rate_section(kpis.denial_rate_by(coded, "procedure_code"), "codes",
                                       "By procedure code (a claim counts once per code it bills)",
                                       "procedure_code", "code")),
        ("providers", lambda: rate_section(kpis.denial_rate_by(claims, "provider_npi"),
                                           "providers", "By provider (rendering NPI, else "
                                           "billing NPI)", "provider_npi", "NPI")),
        ("days to adjudication", lambda: lag_section(claims)),
    ]  # fmt: skip
    nav = list(NAV)
    if model is not None:
        builders.append(("model explanations", lambda: model_section(history, model)))
        nav.append(("model", "Model"))
    sections = []
    for done, (name, build) in enumerate(builders):
        progress(name, done, len(builders))
        sections.append(build())
    subtitle = (
        f"{len(claims):,} claims submitted {submitted.min().date()} to {submitted.max().date()}"
        f" · generated {dt.datetime.now(dt.UTC).isoformat(timespec='minutes')}"
        " · no patient identifiers"
    )
    return P.document("Denial analytics", subtitle, nav, "".join(sections))
