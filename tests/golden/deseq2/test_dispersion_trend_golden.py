"""The dispersion trend against R DESeq2 1.38.3 (``trend/make_trend_references.R``).

Each case gives R's gene-wise dispersions of the genes R fits the trend to; redoxseq's trend
is fitted to those, so that the comparison tests the trend alone: which fit R ends up using
(its parametric -> local fallback), the fitted values at the genes and the curve beyond them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from redoxseq.de.dispersion_trend import fit_trend

HERE = Path(__file__).parent / "trend"
CASES = pd.read_csv(HERE / "r_trend_cases.tsv", sep="\t")


def _case(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    genes = pd.read_csv(HERE / f"r_trend.{name}.tsv.gz", sep="\t", float_precision="round_trip")
    grid = pd.read_csv(HERE / f"r_trend_grid.{name}.tsv.gz", sep="\t", float_precision="round_trip")
    return genes, grid


@pytest.mark.parametrize("row", CASES.to_dict("records"), ids=list(CASES["case"]))
def test_trend_matches_r(row: dict, caplog: pytest.LogCaptureFixture) -> None:
    genes, grid = _case(row["case"])
    with caplog.at_level(logging.WARNING):
        trend = fit_trend(
            genes["baseMean"].to_numpy(), genes["dispersion_genewise"].to_numpy(),
            row["fit_type_requested"],
        )  # fmt: skip
    assert trend.kind == row["fit_type_used"]
    fell_back = "local regression fit was substituted" in caplog.text
    assert fell_back == bool(row["fallback_message"])
    ours = trend(genes["baseMean"].to_numpy())
    rel = np.abs(ours / genes["dispersion_trend"].to_numpy() - 1)
    assert rel.max() < 1e-6, rel.max()
    # the curve between and beyond the genes (20x below the smallest and above the largest mean)
    rel_grid = np.abs(trend(grid["mean"].to_numpy()) / grid["dispersion_trend"].to_numpy() - 1)
    assert rel_grid.max() < 1e-6, rel_grid.max()
