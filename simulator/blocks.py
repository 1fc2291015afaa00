"""A large world simulated a block of practices at a time.

A billing company's pooled history is many practices' histories. Above ``BLOCK_CLAIMS``
claims, partitioned output is simulated as blocks of about ``BLOCK_CLAIMS`` claims each: a
block has its own practices, providers (NPIs from the block's own range) and patients, drawn
from the same payers, policy changes, dates and mechanisms, and is written (its own files in
every month folder) before the next is simulated, so peak memory is that of one block
whatever the number of claims. A member's claims, checks and authorizations are all in one
block. The random stream differs from a one-shot world of the same size (each block has its
own seed), so the files are not those of the one-shot simulator; the same seed still gives
the same files. Claim, patient, authorization and referral numbers continue from block to
block, so identifiers stay unique.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.dialects import Dialect
from simulator.run import Simulation

BLOCK_CLAIMS = 1_000_000  # claims simulated at once in a large partitioned world


@dataclass(frozen=True)
class Block:
    index: int
    claims: int
    requests: int
    seed: int

    def requests_rng(self, seed: int) -> np.random.Generator:
        """The generator of the block's claim requests (the one-shot world's for block 0)."""
        return np.random.default_rng([seed, 1] if self.index == 0 else [seed, 1, self.index])


def block_claims(claims: int, fmt: str, dialect: Dialect) -> int:
    """Claims per block: ``BLOCK_CLAIMS`` for partitioned output of the default world, else
    the whole world at once (one file per table; a dialect fixes its practices)."""
    return BLOCK_CLAIMS if fmt == "partitioned" and dialect.is_default else claims


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def plan_blocks(claims: int, requests: int, seed: int, size: int) -> list[Block]:
    """Blocks of at most ``size`` claims adding up to ``claims`` (and ``requests``); block 0
    has the world's seed, so a world of one block is the one-shot world."""
    count = max(1, math.ceil(claims / size))
    seeds = [seed] + [
        int(np.random.SeedSequence([seed, k]).generate_state(1)[0]) for k in range(1, count)
    ]
    return [
        Block(k, c, r, s)
        for k, (c, r, s) in enumerate(
            zip(_split(claims, count), _split(requests, count), seeds, strict=True)
        )
    ]


@dataclass
class Numbering:
    """Where the next block's claim, patient, authorization and referral numbers start."""

    claims: int = 0
    patients: int = 0
    auths: int = 0
    referrals: int = 0

    def renumber(self, sim: Simulation) -> None:
        """Shift a block's numbers past the blocks before it."""
        sim.claim_number = sim.claim_number + self.claims
        sim.patient_number = sim.patient_number + self.patients
        sim.auth_number = sim.auth_number + self.auths
        sim.referral_number = sim.referral_number + self.referrals
        self.claims += len(sim.claim_number)
        self.patients += len(sim.patient_number)
        self.auths += len(sim.auth_number)
        self.referrals += len(sim.referral_number)
