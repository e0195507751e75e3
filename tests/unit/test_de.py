"""The DE stage on a small simulated 2 x 2 experiment: outputs, cutoffs, shrinkage, files."""

from __future__ import annotations

import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import pearsonr

from redoxseq.de.design import (
    build_design,
    contrast_job_settings,
    fit_settings,
    parse_formula,
    preflight,
)
from redoxseq.de.fit import (
    contrast_results,
    design_outputs,
    evaluate_contrast,
    fit_design,
    fit_model,
    get_engine,
    load_model,
    resolve_job_contrast,
)
from redoxseq.de.workbook import significant_workbook
from redoxseq.io import write_tsv
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "counts" / "interaction_sim"
N_GENES = 400


def _config() -> tuple[dict, dict]:
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as handle:
        shipped = yaml.safe_load(handle)
    contrasts = dict(shipped["contrasts"])
    contrasts["study1"] = {
        "factor": "treatment", "numerator": "sorafenib", "denominator": "vehicle",
        "at": {"cell_line": "resistant"}, "padj": 0.03, "fold_change": 3,
    }  # fmt: skip
    contrasts["study2"] = {
        "difference": ["sorafenib_vs_vehicle_in_resistant", "sorafenib_vs_vehicle_in_sensitive"],
        "pvalue": 0.05, "log2fc": 1,
    }  # fmt: skip
    return shipped["deseq2"], contrasts


def _samples() -> pd.DataFrame:
    return pd.read_csv(DATA / "samples.tsv", sep="\t", dtype=str).set_index("sample", drop=False)


def _counts() -> pd.DataFrame:
    return pd.read_csv(DATA / "counts.tsv.gz", sep="\t", index_col=0).iloc[:N_GENES]


@cache
def _fitted():  # type: ignore[no-untyped-def]
    deseq2, contrasts = _config()
    report = preflight(_samples(), deseq2, contrasts)
    model, dds = fit_model(_counts(), _samples(), report.design, report.settings, threads=2,
                           keep_dds=True)  # fmt: skip
    return report, model, design_outputs(model, dds)


@cache
def _result(name: str) -> dict[str, pd.DataFrame]:
    report, model, _ = _fitted()
    return contrast_results(model, report.contrasts[name], engine=get_engine("batched", 2))


def test_results_table_columns_and_groups() -> None:
    res = _result("sorafenib_response_resistant_vs_sensitive")["results"]
    assert list(res.columns[:11]) == [
        "gene_name", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj",
        "log2FoldChange_shrunk", "lfcSE_shrunk", "significant", "padj_na_reason",
    ]  # fmt: skip
    assert res.index.name == "gene_id"
    assert (res["test"] == "Wald").all()
    _, model, tables = _fitted()
    normalized = tables["normalized_counts"]
    members = [s for s in model.samples if s.startswith("resistant_sorafenib")]
    np.testing.assert_allclose(
        res["mean_norm_resistant_sorafenib"], normalized[members].mean(axis=1).loc[res.index]
    )
    assert {c for c in res.columns if c.startswith("mean_norm_")} == {
        "mean_norm_resistant_sorafenib", "mean_norm_resistant_vehicle",
        "mean_norm_sensitive_sorafenib", "mean_norm_sensitive_vehicle",
    }  # fmt: skip


def test_up_and_down_lists_follow_the_study_cutoffs() -> None:
    one = _result("study1")
    up, down, res = one["up"], one["down"], one["results"]
    assert len(up) and len(down)
    assert (up["padj"] < 0.03).all() and (up["log2FoldChange"] > np.log2(3)).all()
    assert (down["padj"] < 0.03).all() and (down["log2FoldChange"] < -np.log2(3)).all()
    expected = res.index[(res["padj"] < 0.03) & (res["log2FoldChange"].abs() > np.log2(3))]
    assert set(up.index) | set(down.index) == set(expected)
    two = _result("study2")
    res2 = two["results"]
    expected2 = res2.index[(res2["pvalue"] < 0.05) & (res2["log2FoldChange"].abs() > 1)]
    assert set(two["up"].index) | set(two["down"].index) == set(expected2)
    summary = two["summary"].iloc[0]
    assert summary["n_up"] == len(two["up"]) and summary["significance"].startswith("pvalue < 0.05")


def test_relevelled_shrinkage_equals_a_real_refit_with_the_other_reference() -> None:
    """sorafenib in resistant: re-expressed coefficients == fitting with cell_line=resistant."""
    report, _, _ = _fitted()
    ours = _result("sorafenib_vs_vehicle_in_resistant")["results"]
    refs = {"cell_line": "resistant", "treatment": "vehicle"}
    design = build_design(parse_formula(report.settings["design"]), _samples(), refs)
    settings = {**report.settings, "reference_levels": refs}
    model, _ = fit_model(_counts(), _samples(), design, settings, threads=2)
    spec = {"x": {"factor": "treatment", "numerator": "sorafenib", "denominator": "vehicle",
                  "at": {"cell_line": "resistant"}}}  # fmt: skip
    contrast = preflight(_samples(), settings, spec).contrasts["x"]
    assert contrast.shrinkage is not None and not contrast.shrinkage.relevelled
    refit = contrast_results(model, contrast, engine=get_engine("batched", 2))["results"]
    # IRLS stops at a relative deviance change of 1e-8: the two fits agree to ~1e-5
    np.testing.assert_allclose(ours["log2FoldChange"], refit["log2FoldChange"], atol=1e-4)
    both = ours["log2FoldChange_shrunk"].notna()
    assert pearsonr(ours.loc[both, "log2FoldChange_shrunk"],
                    refit.loc[both, "log2FoldChange_shrunk"])[0] > 0.99999  # fmt: skip
    np.testing.assert_allclose(
        ours["log2FoldChange_shrunk"], refit["log2FoldChange_shrunk"], atol=1e-3
    )


def test_shrinkage_pulls_noisy_fold_changes_toward_zero() -> None:
    res = _result("resistant_vs_sensitive")["results"]
    low = res["baseMean"] < 20
    assert (
        res.loc[low, "log2FoldChange_shrunk"].abs() <= res.loc[low, "log2FoldChange"].abs() + 1e-6
    ).mean() > 0.95


def test_per_design_tables() -> None:
    _, model, tables = _fitted()
    assert tables["vst"].shape == tables["vst_blind"].shape == (len(model.genes), 12)
    assert list(tables["dispersions"].columns[:5]) == [
        "baseMean", "dispersion_genewise", "dispersion_trend", "dispersion_map",
        "dispersion_final",
    ]  # fmt: skip
    assert tables["size_factors"].index.name == "sample"
    assert set(tables["cooks_outliers"].columns) >= {"n_genes_above_cutoff", "cooks_cutoff"}


def test_model_file_round_trip(tmp_path: Path) -> None:
    report, model, _ = _fitted()
    model.save(tmp_path / "model.npz")
    again = load_model(tmp_path / "model.npz")
    contrast = report.contrasts["sorafenib_vs_vehicle_in_sensitive"]
    first = _result(contrast.name)["results"]
    second = contrast_results(again, contrast, engine=get_engine("batched", 2))["results"]
    pd.testing.assert_frame_equal(first, second)


def test_files_are_reproducible_and_own_fit_contrasts_run(tmp_path: Path) -> None:
    deseq2, contrasts = _config()
    contrasts = {
        "resistant_vs_sensitive": contrasts["resistant_vs_sensitive"],
        "no_rs3": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                   "exclude": ["resistant_sorafenib_3"]},
    }  # fmt: skip
    for run in ("a", "b"):
        out = tmp_path / run
        out.mkdir()
        model, tables, _ = fit_design(_counts(), _samples(), fit_settings(deseq2), threads=2)
        model.save(out / "model.npz")
        for key in ("vst", "size_factors"):
            write_tsv(tables[key], out / f"{key}.tsv")
        write_tsv(preflight(_samples(), deseq2, contrasts).contrasts_table(), out / "contrasts.tsv")
        for name in contrasts:
            job = contrast_job_settings(name, deseq2, contrasts)
            contrast = resolve_job_contrast(_samples(), job)
            result = evaluate_contrast(
                contrast, job["deseq2"], model=load_model(out / "model.npz"), counts=_counts(),
                samples=_samples(), annotation=None, threads=2,
            )  # fmt: skip
            write_tsv(result["results"], out / f"{name}.results.tsv")
    for name in ("model.npz", "vst.tsv", "size_factors.tsv", "contrasts.tsv",
                 "no_rs3.results.tsv", "resistant_vs_sensitive.results.tsv"):  # fmt: skip
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    table = pd.read_csv(tmp_path / "a" / "contrasts.tsv", sep="\t", index_col=0)
    assert bool(table.loc["no_rs3", "own_fit"]) and table.loc["no_rs3", "n_samples"] == 11


def test_workbook_has_one_sheet_per_contrast_and_same_bytes(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    names = ["sorafenib_response_resistant_vs_sensitive", "study1"]
    results = {n: _result(n)["results"] for n in names}
    summaries = pd.concat([_result(n)["summary"] for n in names])
    for target in ("a.xlsx", "b.xlsx"):
        significant_workbook(results, summaries, tmp_path / target)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    sheets = pd.read_excel(tmp_path / "a.xlsx", sheet_name=None)
    long_sheet = list(sheets)[2]
    assert list(sheets)[:2] == ["index", "legend"] and list(sheets)[3] == "study1"
    assert len(long_sheet) <= 31 and long_sheet.startswith("sorafenib_response_resista~")
    index = sheets["index"].dropna(subset=["sheet"])
    assert dict(zip(index["contrast"], index["sheet"], strict=True)) == {
        names[0]: long_sheet,
        "study1": "study1",
    }
    study = sheets["study1"]
    assert len(study) == len(_result("study1")["up"]) + len(_result("study1")["down"])
    assert list(study.columns[:3]) == ["gene symbol", "gene ID", "direction"]
    assert set(study.columns) <= set(sheets["legend"]["column"])
    sheet = load_workbook(tmp_path / "a.xlsx")["study1"]
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    padj = sheet.cell(row=2, column=header.index("adjusted p-value") + 1)
    assert padj.number_format == "0.00E+00"
    assert sheet.column_dimensions["A"].width >= 9
    assert zipfile.is_zipfile(tmp_path / "a.xlsx")


def test_workbook_counts_an_lrt_as_called_without_direction(tmp_path) -> None:
    result = _result("study1")
    called = result["results"]["significant"].fillna("").astype(str) != ""
    results = {"lrt": result["results"].assign(significant=np.where(called, "changed", ""))}
    summary = result["summary"].rename(index=lambda _: "lrt").assign(test="LRT", n_up=0, n_down=0)
    significant_workbook(results, summary, tmp_path / "w.xlsx")
    sheets = pd.read_excel(tmp_path / "w.xlsx", sheet_name=None)
    row = sheets["index"].dropna(subset=["sheet"]).iloc[0]
    assert row["genes called"] == int(called.sum()) > 0
    assert pd.isna(row["genes up"]) and pd.isna(row["genes down"])
    assert set(sheets["lrt"]["direction"]) == {"changed"}


def test_sheet_names_are_unique_and_fit_excel() -> None:
    from redoxseq.de.workbook import sheet_names

    names = [f"sorafenib_vs_vehicle_in_sensitive_clone_{k}" for k in range(50)]
    names += ["a/b", "index", "x" * 31]
    sheets = sheet_names(names)
    assert len({s.lower() for s in sheets.values()}) == len(names)
    assert all(len(s) <= 31 and not set(s) & set("[]:*?/\\") for s in sheets.values())
    assert sheets["x" * 31] == "x" * 31 and sheets["a/b"] == "a_b"
    assert sheets["index"] != "index"


@pytest.mark.parametrize("engine", ["batched", "default"])
def test_engines_are_selectable(engine: str) -> None:
    assert get_engine(engine, 1) is not None


def test_dds_subclass_size_factors_and_cooks_equal_pydeseq2s(monkeypatch) -> None:
    # redoxseq's DeseqDataSet subclass computes size factors row by row and Cook's distances
    # by blocks of genes (memory); the values must be pyDESeq2's: size factors bit for bit,
    # Cook's distances to rounding (summation order of the trimmed means).
    from pydeseq2.dds import DeseqDataSet

    import redoxseq.de.fit as de
    from redoxseq.de.inference import BatchedInference

    monkeypatch.setattr(de, "_GENE_BLOCK", 24 * 37)  # many blocks, a ragged last one
    rng = np.random.default_rng(21)
    n, n_genes = 24, 400
    base = rng.lognormal(3, 1.5, n_genes)
    counts = rng.negative_binomial(10, 10 / (10 + base[None, :] * rng.uniform(0.5, 2, (n, 1))))
    counts[:, 3] = 0  # an all-zero gene
    counts[5, 10] = 5000  # an outlier
    samples = [f"s{i}" for i in range(n)]
    table = pd.DataFrame(counts, index=samples, columns=[f"g{j}" for j in range(n_genes)])
    meta = pd.DataFrame(
        {"condition": np.repeat(["A", "B", "C"], 8), "batch": np.tile(["x", "y"], 12)},
        index=samples,
    )
    dds = de._dds_class()(counts=table, metadata=meta, design="~ batch + condition",
                          quiet=True, inference=BatchedInference(n_cpus=1))  # fmt: skip
    dds.fit_size_factors()
    ours = (dds.obs["size_factors"].to_numpy(), dds.layers["normed_counts"], dds.logmeans)
    DeseqDataSet.fit_size_factors(dds)  # pyDESeq2's own method on the same object
    theirs = (dds.obs["size_factors"].to_numpy(), dds.layers["normed_counts"], dds.logmeans)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    dds.fit_genewise_dispersions()
    dds.fit_dispersion_trend()
    dds.fit_dispersion_prior()
    dds.fit_MAP_dispersions()
    dds.fit_LFC()
    saved = {key: dds.obsm[key].copy() for key in ("_mu_LFC", "_hat_diagonals")}
    dds.calculate_cooks()
    cooks = dds.layers["cooks"].copy()
    assert not {"_mu_LFC", "_hat_diagonals"} & set(dds.obsm)  # dropped: nothing reads them
    for key, value in saved.items():
        dds.obsm[key] = value
    DeseqDataSet.calculate_cooks(dds)
    assert np.isnan(cooks[:, 3]).all()
    np.testing.assert_allclose(cooks, dds.layers["cooks"], rtol=1e-12)
    assert cooks[5, 10] > 10  # the outlier stands out
