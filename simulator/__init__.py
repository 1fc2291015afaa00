"""The history simulator: a causal world of medical claims with known denial causes.

A billing company's practices see patients; claims go to payers with their own rules; each
denial cause has a probability computed from facts of the claim and its context, so a model
trained on the written tables can learn why claims are denied. ``simulate`` writes a history
folder (data contract section 1), claim requests for the months after it at the practices'
own pace (section 2), the ground truth and the world's rules.
"""

from simulator.pipeline import simulate
from simulator.summary import SimulationSummary

__all__ = ["SimulationSummary", "simulate"]
