"""Strandedness from strand evidence: the ``auto`` decision rule."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redoxseq.counting.types import (
    CountOptions,
    FixedStrandedness,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Strandedness
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrandDecision:
    """Strand evidence of one sample and the mode chosen from it."""

    same_strand: int
    opposite_strand: int
    chosen: FixedStrandedness | None
    reason: str

    @property
    def informative(self) -> int:
        """Reads/fragments assigned to exactly one stranded gene."""
        return self.same_strand + self.opposite_strand

    @property
    def fraction_forward(self) -> float:
        """Fraction of informative reads on the gene's strand (nan if none)."""
        return self.same_strand / self.informative if self.informative else float("nan")


def choose_strandedness(same: int, opposite: int, options: CountOptions) -> StrandDecision:
    """Pick ``forward``/``reverse``/``none`` from strand evidence, or none at all.

    ``forward`` if the fraction of informative reads on the gene's strand is at least
    ``auto_min_fraction`` (0.8), ``reverse`` if the fraction on the opposite strand is, and
    ``none`` if both fractions are at most ``auto_unstranded_max`` (0.6). Anything else
    (for example 70/30), or fewer than ``auto_min_reads`` informative reads, chooses nothing.
    """
    total = same + opposite
    if total < options.auto_min_reads:
        return StrandDecision(
            same,
            opposite,
            None,
            f"only {total} reads hit exactly one gene (auto_min_reads = {options.auto_min_reads})",
        )
    fwd = same / total
    rev = opposite / total
    if fwd >= options.auto_min_fraction:
        return StrandDecision(
            same, opposite, "forward", f"{fwd:.3f} >= {options.auto_min_fraction}"
        )
    if rev >= options.auto_min_fraction:
        return StrandDecision(
            same, opposite, "reverse", f"{rev:.3f} >= {options.auto_min_fraction}"
        )
    if max(fwd, rev) <= options.auto_unstranded_max:
        return StrandDecision(
            same,
            opposite,
            "none",
            f"both fractions <= {options.auto_unstranded_max}",
        )
    return StrandDecision(
        same,
        opposite,
        None,
        f"forward fraction {fwd:.3f} fits no mode (forward/reverse need >= "
        f"{options.auto_min_fraction}, unstranded needs both <= {options.auto_unstranded_max})",
    )
