"""What a simulation produced, next to the denial-mix targets it was built to match."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from features.categories import CATEGORIES
from simulator.causes import CATEGORY_TARGETS, CAUSES, INDEX_TARGETS
from simulator.run import Simulation


@dataclass
class SimulationSummary:
    """Counts, the first-pass denial rate and the denial mix of the history."""

    out: Path
    fmt: str
    seed: int
    claims: int
    lines: int
    outcomes: int
    pending: int
    requests: int
    denial_rate: float  # history claims denied at first pass (drawn; pending ones included)
    index_shares: dict[str, tuple[float, float]]  # Change Healthcare group -> (share, target)
    category_shares: dict[str, tuple[float, float]]  # contract category -> (share, target)
    policy_changes: list[dict[str, str]]
    elapsed_seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, sim: Simulation, out: Path, fmt: str, rows: dict[str, int], requests: int):
        a = sim.adj
        hist = sim.history
        denied = a.denied & hist
        top = a.top[denied]
        groups = np.array([c.index_group for c in CAUSES])[top]
        cats = np.array(CATEGORIES)[a.fired_categories[denied, 0]]  # a payer's CARC decides
        n = max(len(top), 1)
        return cls(
            out=out,
            fmt=fmt,
            seed=sim.world.seed,
            claims=int(hist.sum()),
            lines=rows.get("claim_lines", 0),
            outcomes=rows.get("outcomes", 0),
            pending=int(hist.sum()) - rows.get("outcomes", 0),
            requests=requests,
            denial_rate=float(denied.sum() / max(hist.sum(), 1)),
            index_shares={g: (float((groups == g).sum() / n), t) for g, t in INDEX_TARGETS.items()},
            category_shares={
                c: (float((cats == c).sum() / n), CATEGORY_TARGETS.get(c, 0.0)) for c in CATEGORIES
            },
            policy_changes=[
                {
                    "payer_id": p.payer_id,
                    "procedure_code": p.procedure_code,
                    "effective": p.effective.isoformat(),
                    "kind": p.kind,
                }
                for p in sim.world.policy
            ],
            rows=rows,
        )

    @classmethod
    def merged(cls, parts: list[SimulationSummary]) -> SimulationSummary:
        """The summary of a world simulated in blocks, from its blocks' (the first block's
        seed and policy changes: every block has the same)."""
        first = parts[0]
        claims = sum(p.claims for p in parts)
        denied = [p.denial_rate * p.claims for p in parts]
        weights = np.array(denied) / max(sum(denied), 1e-12)

        def shares(of: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
            return {
                k: (float(sum(w * o[k][0] for w, o in zip(weights, of, strict=True))), t)
                for k, (_, t) in of[0].items()
            }

        return cls(
            out=first.out,
            fmt=first.fmt,
            seed=first.seed,
            claims=claims,
            lines=sum(p.lines for p in parts),
            outcomes=sum(p.outcomes for p in parts),
            pending=sum(p.pending for p in parts),
            requests=sum(p.requests for p in parts),
            denial_rate=sum(denied) / max(claims, 1),
            index_shares=shares([p.index_shares for p in parts]),
            category_shares=shares([p.category_shares for p in parts]),
            policy_changes=first.policy_changes,
            rows={k: sum(p.rows.get(k, 0) for p in parts) for k in first.rows},
        )

    def facts(self) -> dict[str, Any]:
        """The deterministic part (no timing), for world.json."""
        return {
            "claims": self.claims,
            "lines": self.lines,
            "outcomes": self.outcomes,
            "pending": self.pending,
            "requests": self.requests,
            "denial_rate": round(self.denial_rate, 4),
            "index_shares": {k: round(v[0], 4) for k, v in self.index_shares.items()},
            "category_shares": {k: round(v[0], 4) for k, v in self.category_shares.items()},
            "rows": self.rows,
        }

    def table(self) -> Table:
        """A rich table: counts, then realised shares next to their targets."""
        t = Table(title=f"Simulated history -> {self.out}", show_lines=False)
        t.add_column("measure")
        t.add_column("value", justify="right")
        t.add_column("target", justify="right")
        t.add_row("claims / lines", f"{self.claims:,} / {self.lines:,}", "")
        t.add_row("outcomes / pending", f"{self.outcomes:,} / {self.pending:,}", "")
        t.add_row("requests", f"{self.requests:,}", "")
        t.add_row("first-pass denial rate", f"{self.denial_rate:.1%}", "10-20%")
        for p in self.policy_changes:
            t.add_row(
                "policy change: payer x code needs auth from",
                f"{p['payer_id']} x {p['procedure_code']}",
                p["effective"],
            )
        t.add_section()
        for group, (share, target) in self.index_shares.items():
            t.add_row(f"denials index group: {group}", f"{share:.1%}", f"{target:.1%}")
        t.add_section()
        for cat, (share, target) in self.category_shares.items():
            t.add_row(f"category: {cat}", f"{share:.1%}", f"{target:.1%}")
        t.add_section()
        rate = self.claims / self.elapsed_seconds if self.elapsed_seconds else 0.0
        t.add_row("elapsed", f"{self.elapsed_seconds:.1f} s", f"{rate:,.0f} claims/s")
        return t

    def __rich__(self) -> Table:
        return self.table()
