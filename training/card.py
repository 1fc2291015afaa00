"""The model card: what a model was trained on, how well it does, and where it falls short."""

from __future__ import annotations

from typing import Any

from features.categories import CATEGORIES
from features.history import LoadReport

LIMITS = """\
- Learns only the denial patterns present in this history: a payer rule never seen in the
  outcomes (a new authorization requirement, a new edit) is learned only after its first
  denials arrive, weighted towards recent weeks.
- Eligibility, authorization and credentialing reasons need their context tables; categories
  whose context was missing from the history cannot be learned (listed below if any).
- Probabilities are calibrated on the validation window; the refit model reuses that
  calibration.
- Reasons are attributions of this model (exact TreeSHAP summed per category), not payer
  policy: they say what raised the risk, the payer's remittance says why it denied."""


def model_card(meta: dict[str, Any], report: LoadReport, version: str | None = None) -> str:
    metrics = meta["metrics"]
    window = meta["training_window"]
    split = meta["split"]
    lines = [
        f"# Model card: {meta['name']}" + (f" version {version}" if version else ""),
        "",
        f"Trained {meta['trained_at']} on claims submitted {window['from']} to {window['to']} "
        f"({'refit on all labelled history' if meta['refit'] else 'evaluation model, no refit'}).",
        f"Time split: train from {split['train']}, validation from {split['validation']}, "
        f"test from {split['test']}. Feature set {meta.get('feature_set', '?')}.",
        "",
        "## Test window",
        "",
        "| model | ROC AUC | PR AUC | recall @90% prec. | recall @95% prec. | Brier | ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for prefix, label in (
        ("lgbm", "LightGBM (calibrated)"),
        ("logistic", "logistic regression"),
        ("prior", "prior (denial rate)"),
    ):
        lines.append(
            f"| {label} | {metrics[f'{prefix}_roc_auc']:.4f} | {metrics[f'{prefix}_pr_auc']:.4f} "
            f"| {metrics[f'{prefix}_recall_at_90_precision']:.3f} "
            f"| {metrics[f'{prefix}_recall_at_95_precision']:.3f} "
            f"| {metrics[f'{prefix}_brier']:.4f} | {metrics[f'{prefix}_ece']:.4f} |"
        )
    if "oracle_roc_auc" in metrics:
        lines += [
            "",
            f"Simulated history: oracle AUC {metrics['oracle_roc_auc']:.4f}, model / oracle "
            f"{metrics['auc_ratio_to_oracle']:.3f}; top reason names the true cause for "
            f"{metrics['single_cause_top_reason_hit']:.1%} of single-cause denials.",
        ]
    lines += [
        "",
        "## Top reason names the denial category (recall, test window)",
        "",
        "| category | recall |",
        "|---|---|",
    ]
    for category in (*CATEGORIES, "all"):
        value = metrics.get(f"recall_{category}")
        if value is not None:
            lines.append(f"| {category} | {value:.3f} |")
    lines += ["", "## Data", ""]
    for table, rows in report.rows_kept.items():
        lines.append(f"- {table}: {rows:,} rows")
    lines += [f"- warning: {w}" for w in report.warnings()]
    lines += ["", "## Known limits", "", LIMITS, ""]
    return "\n".join(lines)
