"""Batched (gene-vectorized) inference engine for pyDESeq2.

Provisional version: the factory and class exist so that the DE stage can wire them;
methods are being replaced by vectorized implementations.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydeseq2.default_inference import DefaultInference
from pydeseq2.inference import Inference

logger = logging.getLogger(__name__)

__all__ = ["BatchedInference", "get_inference"]


class BatchedInference(DefaultInference):
    """pyDESeq2 inference methods vectorized across genes (provisional)."""

    def __init__(self, n_cpus: int | None = 1) -> None:
        super().__init__(n_cpus=n_cpus)


def get_inference(name: Literal["batched", "default"], n_cpus: int) -> Inference:
    """Return the pyDESeq2 inference engine selected by ``deseq2.inference``."""
    if name == "batched":
        return BatchedInference(n_cpus=n_cpus)
    if name == "default":
        return DefaultInference(n_cpus=n_cpus)
    from redoxseq.errors import ConfigError

    raise ConfigError(f"deseq2.inference: unknown engine {name!r}; use 'batched' or 'default'")
