"""The simulator scales: replicates per group (and background genes) for 48-400 samples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from redoxseq.sim.experiment import SimulationParams, library_factors, sample_table, simulate_counts


def test_sample_table_has_four_groups_of_n() -> None:
    table = sample_table(24)
    assert len(table) == 96 and table["sample"].is_unique
    assert table.groupby(["cell_line", "treatment"]).size().eq(24).all()
    assert list(sample_table()["sample"]) == list(sample_table(3)["sample"])


def test_more_replicates_same_genes_and_truth_more_samples() -> None:
    tiny = SimulationParams.tiny()
    truth3, counts3 = simulate_counts(params=tiny)
    truth12, counts12 = simulate_counts(params=replace(tiny, replicates=12))
    assert counts12.shape == (counts3.shape[0], 48)
    # the gene model (effects) does not depend on the number of samples; base_mean (the mean
    # expected count over samples) does, through the library factors
    assert truth12.drop(columns="base_mean").equals(truth3.drop(columns="base_mean"))
    lib = library_factors(1, replace(tiny, replicates=12))
    assert len(lib) == 48 and lib.min() >= tiny.library_factor_min
    assert lib.max() <= tiny.library_factor_max


def test_more_background_genes() -> None:
    tiny = SimulationParams.tiny()
    _, small = simulate_counts(params=tiny)
    _, large = simulate_counts(params=replace(tiny, n_background=tiny.n_background + 40))
    assert large.shape[0] == small.shape[0] + 40
    assert np.isfinite(large.to_numpy()).all()
