"""Fit a golden fixture the way the pipeline does (preflight, fit_model, design outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from redoxseq.config import read_sample_sheet
from redoxseq.de.design import PreflightReport, preflight
from redoxseq.de.fit import FittedModel, design_outputs, fit_model


def fit_fixture(
    folder: Path, deseq2_config: dict[str, Any], contrasts: dict[str, Any]
) -> tuple[PreflightReport, FittedModel, dict[str, pd.DataFrame]]:
    """Fit ``folder/counts.tsv.gz`` with ``folder/samples.tsv`` on 2 threads."""
    samples = read_sample_sheet(folder / "samples.tsv")
    report = preflight(samples, deseq2_config, contrasts)
    counts = pd.read_csv(folder / "counts.tsv.gz", sep="\t", index_col=0)
    model, dds = fit_model(
        counts, samples.loc[list(report.samples)], report.design, report.settings, threads=2,
        keep_dds=True,
    )  # fmt: skip
    return report, model, design_outputs(model, dds)
