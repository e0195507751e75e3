"""Differential expression with pyDESeq2: one fit per design, many contrasts per fit.

Table orientation: count matrices on disk and in the public functions are **genes x
samples** (index ``gene_id``), non-negative integers; pyDESeq2 itself wants samples x genes
and that transposition happens only inside this module. log2 fold changes are log2 units,
dispersions are the negative binomial ``alpha`` (variance = mu + alpha mu^2).

The fitted model is kept in a compact ``.npz`` file (no pickle): counts, size factors, design
matrix, coefficients, dispersions and Cook's flags, enough to test any contrast without
refitting. A contrast with its own sample exclusions is fitted on its own samples.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import f as f_dist

from redoxseq.de.design import (
    Contrast,
    Design,
    build_design,
    deseq2_settings,
    parse_formula,
    preflight,
    resolve_contrasts,
)
from redoxseq.de.dispersion_trend import DispersionTrend, fit_trend, vst_values
from redoxseq.errors import ConfigError, InputError, listing
from redoxseq.io import PathLike, atomic_path

if TYPE_CHECKING:
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.inference import Inference

logger = logging.getLogger(__name__)

__all__ = [
    "FittedModel",
    "contrast_results",
    "design_outputs",
    "evaluate_contrast",
    "fit_design",
    "fit_model",
    "get_engine",
    "load_model",
    "lrt_results",
    "prefilter",
    "resolve_job_contrast",
]

_LN2 = math.log(2.0)
MODEL_FORMAT = 1


# ------------------------------------------------------------------------------------------
# engine and threads
# ------------------------------------------------------------------------------------------


def get_engine(name: str, threads: int) -> Inference:
    """The pyDESeq2 inference engine named by ``deseq2.inference``, on ``threads`` cores."""
    try:
        from redoxseq.de.inference import get_inference
    except ImportError as error:
        if name == "default":
            from pydeseq2.default_inference import DefaultInference

            return DefaultInference(n_cpus=threads)
        raise ConfigError(
            f"deseq2.inference: 'batched' needs the module redoxseq.de.inference, which could not "
            f"be imported ({error}); set deseq2.inference: default to use pyDESeq2's engine"
        ) from error
    if name not in {"batched", "default"}:
        raise ConfigError(f"deseq2.inference: {name!r} is not 'batched' or 'default'")
    return get_inference(name, threads)  # type: ignore[arg-type]


@contextlib.contextmanager
def _limited_threads(threads: int) -> Iterator[None]:
    """Cap BLAS/OpenMP threads at ``threads`` and silence pyDESeq2's progress prints."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=max(1, threads)), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


# ------------------------------------------------------------------------------------------
# prefilter
# ------------------------------------------------------------------------------------------


def prefilter(
    counts: pd.DataFrame, samples: pd.DataFrame, design: Design, settings: Mapping[str, Any]
) -> pd.DataFrame:
    """Keep genes with >= ``min_count`` reads in >= ``min_samples`` samples.

    ``counts``: genes x samples. ``min_samples: smallest_group`` is the size of the smallest
    group of samples sharing all design factor levels (1 when the design has no factor),
    as in the DESeq2 vignette. ``min_count: 0`` keeps every gene.
    """
    rule = settings["prefilter"]
    min_count = int(rule.get("min_count", 0) or 0)
    if min_count <= 0:
        return counts
    min_samples = rule.get("min_samples", "smallest_group")
    if min_samples == "smallest_group":
        factors = list(design.levels)
        if factors:
            min_samples = int(
                samples.groupby([samples[f].astype(str) for f in factors]).size().min()
            )
        else:
            min_samples = 1
    keep = (counts >= min_count).sum(axis=1) >= int(min_samples)
    logger.info(
        "prefilter: kept %d of %d genes with >= %d reads in >= %d samples",
        int(keep.sum()), len(keep), min_count, int(min_samples),
    )  # fmt: skip
    if not keep.any():
        raise InputError(
            f"prefilter: no gene has >= {min_count} reads in >= {min_samples} samples; "
            "lower deseq2.prefilter.min_count or check the count matrix"
        )
    return counts.loc[keep]


# ------------------------------------------------------------------------------------------
# the fitted model
# ------------------------------------------------------------------------------------------


@dataclass
class FittedModel:
    """What a contrast needs from a fit. All per-gene arrays follow ``genes``.

    Attributes
    ----------
    genes, samples : identifiers (after prefilter / exclusions).
    counts : samples x genes, int64 (the raw counts, before Cook's replacement).
    design : samples x coefficients design matrix.
    size_factors : per sample.
    base_mean : mean of normalized counts per gene (after Cook's replacement, as R).
    lfc : genes x coefficients, natural log.
    dispersions : final (MAP or gene-wise for dispersion outliers) per gene.
    genewise, trend, map_dispersions : the other dispersion estimates.
    dispersion_outlier : gene-wise dispersion kept (far above the trend).
    non_zero, replaced, refitted, new_all_zero, cooks_outlier : per-gene flags.
    cooks : samples x genes Cook's distances (NaN for all-zero genes).
    replaceable : per sample, whether its group had enough replicates for replacement.
    metadata : settings, formula, reference levels, sample table, trend description.
    """

    genes: np.ndarray
    samples: np.ndarray
    counts: np.ndarray
    design: pd.DataFrame
    size_factors: np.ndarray
    base_mean: np.ndarray
    lfc: np.ndarray
    dispersions: np.ndarray
    genewise: np.ndarray
    trend: np.ndarray
    map_dispersions: np.ndarray
    dispersion_outlier: np.ndarray
    non_zero: np.ndarray
    replaced: np.ndarray
    refitted: np.ndarray
    new_all_zero: np.ndarray
    cooks_outlier: np.ndarray
    cooks: np.ndarray
    replaceable: np.ndarray
    metadata: dict[str, Any]

    @property
    def sample_table(self) -> pd.DataFrame:
        """Sample sheet rows of the fitted samples (samples x columns, strings)."""
        return pd.DataFrame(self.metadata["sample_table"]).set_index("sample")

    @property
    def normalized_counts(self) -> pd.DataFrame:
        """Genes x samples: raw counts divided by size factors."""
        return pd.DataFrame(
            (self.counts / self.size_factors[:, None]).T, index=self.genes, columns=self.samples
        )

    def save(self, path: PathLike) -> None:
        """Write the model as a compressed ``.npz`` (no pickled objects), atomically."""
        arrays = {
            name: getattr(self, name)
            for name in (
                "genes", "samples", "counts", "size_factors", "base_mean", "lfc", "dispersions",
                "genewise", "trend", "map_dispersions", "dispersion_outlier", "non_zero",
                "replaced", "refitted", "new_all_zero", "cooks_outlier", "cooks", "replaceable",
            )
        }  # fmt: skip
        arrays["design"] = self.design.to_numpy(dtype=float)
        arrays["design_columns"] = np.asarray(self.design.columns, dtype=str)
        arrays["metadata"] = np.asarray(json.dumps(self.metadata, sort_keys=True))
        # np.savez_compressed's layout (one .npy per array in a zip, read by np.load), with a
        # fixed timestamp, so that the same model gives the same bytes. Counts, flags and
        # names are deflated at level 1 instead of 6 (~2.7x faster for ~3 % more bytes); float
        # arrays are stored: deflate saved ~5 % of Cook's distances (genes x samples) for
        # ~75 % of the saving time (benchmarks/README.md, "Fixed costs of a DE job").
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            for name, array in arrays.items():
                values = np.asanyarray(array)
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, values, allow_pickle=False)
                member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                if values.dtype.kind == "f":
                    archive.writestr(member, buffer.getbuffer(), compress_type=zipfile.ZIP_STORED)
                else:
                    archive.writestr(
                        member,
                        buffer.getbuffer(),
                        compress_type=zipfile.ZIP_DEFLATED,
                        compresslevel=1,
                    )

    def to_dds(self, engine: Inference) -> DeseqDataSet:
        """Rebuild a fitted pyDESeq2 ``DeseqDataSet`` from the stored arrays (no refit)."""
        from pydeseq2.dds import DeseqDataSet

        genes = pd.Index(self.genes.astype(str), name="gene_id")
        samples = pd.Index(self.samples.astype(str), name="sample")
        dds = DeseqDataSet(
            counts=pd.DataFrame(self.counts, index=samples, columns=genes),
            metadata=self.sample_table.loc[samples],
            design=self.design,
            refit_cooks=bool(self.metadata["settings"]["cooks_refit"]),
            inference=engine,
            quiet=True,
        )
        dds.obs["size_factors"] = self.size_factors
        dds.var["_normed_means"] = self.base_mean
        dds.var["dispersions"] = self.dispersions
        dds.var["non_zero"] = self.non_zero
        dds.non_zero_idx = np.flatnonzero(self.non_zero)
        dds.non_zero_genes = genes[self.non_zero]
        dds.varm["LFC"] = pd.DataFrame(self.lfc, index=genes, columns=self.design.columns)
        dds.var["replaced"] = self.replaced
        dds.var["refitted"] = self.refitted
        dds.new_all_zeroes_genes = genes[self.new_all_zero]
        dds.var["_pvalue_cooks_outlier"] = self.cooks_outlier
        return dds


def load_model(path: PathLike) -> FittedModel:
    """Read a model written by :meth:`FittedModel.save`."""
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: fitted model not found; run the deseq2_fit rule first")
    with np.load(file, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    if metadata.get("format") != MODEL_FORMAT:
        raise InputError(f"{file}: model format {metadata.get('format')} is not {MODEL_FORMAT}")
    design = pd.DataFrame(
        arrays.pop("design"),
        index=arrays["samples"].astype(str),
        columns=list(arrays.pop("design_columns").astype(str)),
    )
    return FittedModel(design=design, metadata=metadata, **arrays)


def _to_samples_by_genes(counts: pd.DataFrame, samples: pd.Index) -> pd.DataFrame:
    missing = [s for s in samples if s not in counts.columns]
    if missing:
        raise InputError(
            f"count matrix: sample(s) {listing(missing)} of the sample sheet have no column; "
            f"matrix columns: {listing(counts.columns, 20)}"
        )
    return counts.loc[:, list(samples)].T


_TRIM_RATIOS = (1 / 3, 1 / 4, 1 / 8)  # DESeq2's trimmedCellVariance, by cell size bin
_TRIM_SCALES = (2.04, 1.86, 1.51)


def _trimmed_cell_variance(counts: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``pydeseq2.utils.trimmed_cell_variance`` (DESeq2's ``trimmedCellVariance``), faster.

    Same trimmed means on a genes x samples copy of each cell, so that each gene's values are
    in contiguous memory (pyDESeq2 sorts samples x genes columns), and found by partitioning
    instead of sorting: ~10x faster on large matrices, same values up to the order of
    summation.
    """
    levels = pd.unique(cells)
    var = np.empty((len(levels), counts.shape[1]))
    for i, level in enumerate(levels):
        rows = np.flatnonzero(cells == level)
        m = rows.size
        size_bin = 2 if m >= 23.5 else 1 if m >= 3.5 else 0
        ntrim = int(np.floor(m * _TRIM_RATIOS[size_bin]))
        cell = np.ascontiguousarray(counts[rows].T)  # genes x samples of the cell
        # the trimmed values are positions ntrim .. m - ntrim - 1 of each sorted row: a
        # partition around those two positions puts them there (unordered), in linear time
        middle = (ntrim, m - ntrim - 1)
        means = np.partition(cell, middle, axis=1)[:, ntrim : m - ntrim].mean(axis=1)
        cell -= means[:, None]
        cell *= cell
        cell.partition(middle, axis=1)
        var[i] = _TRIM_SCALES[size_bin] * cell[:, ntrim : m - ntrim].mean(axis=1)
    return np.asarray(var.max(axis=0))


def _cooks_cells(design: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows and cells of DESeq2's ``robustMethodOfMomentsDisp``.

    Samples in design cells with 3 or more replicates and their cell numbers; None when no
    cell has 3 (then the trimmed variance of all samples is used).
    """
    from pydeseq2.utils import n_or_more_replicates

    three_or_more = n_or_more_replicates(design, 3).to_numpy()
    if not three_or_more.any():
        return None
    kept = design.loc[three_or_more, :]
    return three_or_more, kept.groupby(kept.columns.values.tolist()).ngroup().to_numpy()


def _robust_method_of_moments_disp(
    normed: np.ndarray, cells: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """``pydeseq2.utils.robust_method_of_moments_disp`` with :func:`_trimmed_cell_variance`.

    The dispersions of Cook's distances (DESeq2's ``robustMethodOfMomentsDisp``), for the
    genes (columns) of ``normed``; ``cells`` from :func:`_cooks_cells`.
    """
    from pydeseq2.utils import trimmed_variance

    if cells is not None:
        rows, cell_ids = cells
        v = _trimmed_cell_variance(normed[rows, :], cell_ids)
    else:
        v = np.asarray(trimmed_variance(normed))
    m = normed.mean(axis=0)
    alpha = (v - m) / m**2
    np.maximum(alpha, 0.04, out=alpha)  # DESeq2's minDisp for Cook's distances
    return np.asarray(alpha)


_GENE_BLOCK = 1 << 18  # matrix entries per block of genes (size factors, Cook's)


def _samples_by_genes_int64(counts: pd.DataFrame, samples: pd.Index) -> pd.DataFrame:
    """``counts`` (genes x samples) as a samples x genes int64 table, copied once."""
    table = _to_samples_by_genes(counts, samples)
    values = np.ascontiguousarray(table.to_numpy(dtype=np.int64))
    return pd.DataFrame(values, index=table.index, columns=table.columns, copy=False)


def _dds_class() -> type:
    """pyDESeq2's ``DeseqDataSet`` with R's gene selection for the parametric trend.

    R's ``estimateDispersionsFit`` fits the dispersion-mean trend only to genes whose
    gene-wise dispersion is above ``100 * minDisp`` (``useForFit``); pyDESeq2 0.5 also uses
    genes stuck at the lower bound ``minDisp = 1e-8``, which pulls the trend down when many
    genes are (near-)Poisson, e.g. technical replicates (13 % lower trend on Marioni 2008).
    The subclass keeps R's selection; the rest of the fit is pyDESeq2's, except that Cook's
    distances use a faster trimmed cell variance (same values up to rounding).
    """
    from pydeseq2.dds import DeseqDataSet

    class RTrendDeseqDataSet(DeseqDataSet):
        def fit_size_factors(self, fit_type: str | None = None, control_genes: Any = None) -> None:
            """Median-of-ratios size factors (``fit_type='ratio'``) without full-size temporaries.

            pyDESeq2 takes the log of the whole matrix twice and the median of a samples x
            genes copy; here log means are taken by blocks of genes and each sample's median
            ratio from its own row: the same values, bit for bit. Other methods, control genes
            and the all-genes-have-a-zero case go to pyDESeq2.
            """
            fit_type = fit_type or self.size_factors_fit_type
            counts = self.X
            if (
                fit_type != "ratio"
                or control_genes is not None
                or getattr(self, "control_genes", None) is not None
                or not isinstance(counts, np.ndarray)
            ):
                super().fit_size_factors(fit_type, control_genes)
                return
            n, n_genes = counts.shape
            logmeans = np.empty(n_genes)
            step = max(1, _GENE_BLOCK // max(n, 1))
            with np.errstate(divide="ignore"):
                for start in range(0, n_genes, step):
                    block = slice(start, start + step)
                    logmeans[block] = np.log(counts[:, block]).mean(axis=0)
                filtered = ~np.isinf(logmeans)
                if not filtered.any():  # every gene has a zero: pyDESeq2 warns, iterates
                    super().fit_size_factors(fit_type, control_genes)
                    return
                columns, kept_means = np.flatnonzero(filtered), logmeans[filtered]
                log_medians = np.array(
                    [np.median(np.log(counts[i, columns]) - kept_means) for i in range(n)]
                )
            size_factors = np.exp(log_medians)
            self.logmeans, self.filtered_genes = logmeans, filtered
            self.obs["size_factors"] = size_factors
            self.layers["normed_counts"] = counts / size_factors[:, None]
            self.var["_normed_means"] = self.layers["normed_counts"].mean(axis=0)

        def calculate_cooks(self) -> None:
            """``DeseqDataSet.calculate_cooks`` by blocks of genes (same arithmetic).

            pyDESeq2 makes several samples x genes temporaries (its trimmed cell variance
            also sorts samples x genes columns); here each block of genes is done at once,
            with :func:`_robust_method_of_moments_disp`: same values up to rounding, ~5x
            faster, and the only full-size array is the result. Then the arrays only Cook's
            distances read are dropped.
            """
            if "dispersions" not in self.var:
                self.fit_MAP_dispersions()
            non_zero = np.flatnonzero(self.var["non_zero"].to_numpy(dtype=bool))
            design = self.obsm["design_matrix"]
            num_vars = design.shape[-1]
            cells = _cooks_cells(design)
            normed_all, counts = self.layers["normed_counts"], self.X
            mu_all, hat_all = self.obsm["_mu_LFC"], self.obsm["_hat_diagonals"]
            result = np.full((self.n_obs, self.n_vars), np.nan)
            step = max(1, _GENE_BLOCK // max(self.n_obs, 1))
            for start in range(0, non_zero.size, step):
                genes, block = non_zero[start : start + step], slice(start, start + step)
                dispersions = _robust_method_of_moments_disp(normed_all[:, genes], cells)
                mu, hat = mu_all[:, block], hat_all[:, block]
                cooks = counts[:, genes] - mu  # squared Pearson residuals / (p tau), then
                cooks **= 2  # times the leverage modifier H / (1 - H)^2, as pyDESeq2 does
                variance = mu**2
                variance *= dispersions[None, :]
                variance += mu
                cooks /= variance
                cooks /= num_vars
                leverage = 1 - hat
                leverage **= 2
                cooks *= hat / leverage
                result[:, genes] = cooks
            # Nothing reads the fitted means and leverages after this (pyDESeq2 drops them here
            # with low_memory=True; keeping them made its refit copy them, and they add
            # 3 x 8 bytes x genes x samples to the peak memory)
            for key in ("_mu_LFC", "_hat_diagonals"):
                self.obsm.pop(key, None)
            self.layers.pop("_mu_hat", None)
            self.layers["cooks"] = result

        def fit_dispersion_trend(self, vst: bool = False) -> None:
            """The trend of ``fit_type`` as R fits it (:mod:`redoxseq.de.dispersion_trend`).

            R's gene selection (gene-wise dispersion > 100 x min_disp), R's parametric fit
            and its fallback to the local regression fit (logged), and ``local`` itself.
            With ``vst`` the trend of the VST's gene-wise dispersions is kept apart.
            """
            name = "vst_genewise_dispersions" if vst else "genewise_dispersions"
            if name not in self.var:
                self.fit_genewise_dispersions(vst)
            genes = self.non_zero_genes
            means = self.var.loc[genes, "_normed_means"].to_numpy(dtype=float)
            try:
                trend = fit_trend(
                    means,
                    self.var.loc[genes, name].to_numpy(dtype=float),
                    self.vst_fit_type if vst else self.fit_type,
                    self.min_disp,
                )
            except ValueError as error:
                raise InputError(
                    f"dispersion trend: {error}; set deseq2.fit_type: mean, or check that the "
                    "samples are biological replicates"
                ) from error
            if vst:
                self.uns["vst_trend"] = trend
                return
            self.uns["trend"] = trend
            self.uns["disp_function_type"] = trend.kind
            if trend.kind == "parametric":
                self.uns["trend_coeffs"] = pd.Series([trend.a0, trend.a1], index=["a0", "a1"])
            elif trend.kind == "mean":
                self.uns["mean_disp"] = trend.mean_disp
            fitted = np.full(self.n_vars, np.nan)
            fitted[self.var["non_zero"].to_numpy(dtype=bool)] = trend(means)
            self.var["fitted_dispersions"] = fitted

        def fit_MAP_dispersions(self) -> None:  # noqa: N802 (pyDESeq2's name)
            """pyDESeq2's MAP step; with R's gene-wise estimator, R's MAP search too.

            R starts each gene's MAP search at its gene-wise estimate when that is above 0.1 x
            the trend, at the trend otherwise (measured: R's iteration counts and MAP
            estimates on Marioni ``~ run + tissue``, every gene); the search itself is the
            gene-wise one with the prior added (:func:`redoxseq.de.inference._r_map_alpha`).
            """
            from redoxseq.de.inference import BatchedInference

            engine = self.inference
            if not (isinstance(engine, BatchedInference) and engine.genewise == "r"):
                super().fit_MAP_dispersions()
                return
            if "prior_disp_var" not in self.uns:
                self.fit_dispersion_prior()
            genes = self.var["non_zero"].to_numpy(dtype=bool)
            fitted = self.var.loc[genes, "fitted_dispersions"].to_numpy(dtype=float)
            genewise = self.var.loc[genes, "genewise_dispersions"].to_numpy(dtype=float)
            dispersions, converged = engine.alpha_map_r(
                counts=self.X[:, self.non_zero_idx],
                design_matrix=self.obsm["design_matrix"].to_numpy(dtype=float),
                mu=self.layers["_mu_hat"][:, self.non_zero_idx],
                alpha_hat=fitted,
                start=np.where(genewise > 0.1 * fitted, genewise, fitted),
                min_disp=self.min_disp,
                max_disp=self.max_disp,
                prior_disp_var=float(np.asarray(self.uns["prior_disp_var"]).item()),
            )
            self.var["MAP_dispersions"] = np.full(self.n_vars, np.nan)
            self.var.loc[genes, "MAP_dispersions"] = np.clip(
                dispersions, self.min_disp, self.max_disp
            )
            self.var["_MAP_converged"] = pd.array([pd.NA] * self.n_vars, dtype="boolean")
            self.var.loc[genes, "_MAP_converged"] = converged
            # as pyDESeq2 (and R): outliers above the trend keep their gene-wise estimate
            self.var["dispersions"] = self.var["MAP_dispersions"].copy()
            self.var["_outlier_genes"] = np.log(self.var["genewise_dispersions"]) > np.log(
                self.var["fitted_dispersions"]
            ) + 2 * np.sqrt(self.uns["_squared_logres"])
            outliers = self.var["_outlier_genes"]
            self.var.loc[outliers, "dispersions"] = self.var.loc[outliers, "genewise_dispersions"]
            if self.low_memory:
                del self.layers["_mu_hat"]

        def _fit_parametric_dispersion_trend(self, vst: bool = False) -> None:
            self.fit_dispersion_trend(vst)

        def disp_function(self, x: Any) -> Any:
            """The fitted trend at mean normalized counts ``x``."""
            return self.uns["trend"](np.asarray(x, dtype=float))

        def vst_fit(self, use_design: bool = False) -> None:
            """R's ``varianceStabilizingTransformation``.

            Blind refits the trend to an intercept-only design's gene-wise dispersions;
            ``use_design`` (R ``blind = FALSE``) uses the fitted trend.
            """
            if not hasattr(self, "vst_fit_type"):
                self.vst_fit_type = self.fit_type
            if use_design:
                self.uns["vst_trend"] = self.uns["trend"]
                return
            design = self.obsm["design_matrix"]
            self.obsm["design_matrix"] = pd.DataFrame(
                1, index=self.obs_names, columns=["Intercept"]
            )
            try:
                self.fit_genewise_dispersions(vst=True)
                self.fit_dispersion_trend(vst=True)
            finally:
                self.obsm["design_matrix"] = design

        def vst_transform(self, counts: np.ndarray | None = None) -> np.ndarray:
            """The VST of this dataset's normalized counts (samples x genes)."""
            if counts is not None:
                raise NotImplementedError("redoxseq transforms the fitted counts only")
            normed = np.asarray(self.layers["normed_counts"], dtype=float)
            return vst_values(
                normed.T, self.uns["vst_trend"], self.obs["size_factors"].to_numpy(dtype=float)
            ).T

        def _refit_without_outliers(self) -> None:
            """pyDESeq2's refit, with the fitted trend (any kind) handed to the refit.

            pyDESeq2 rebuilds a plain ``DeseqDataSet`` for the genes with replaced counts and
            copies only a parametric or mean trend into it; the trend is evaluated here at
            the refitted genes' new means and the refit object is this class.
            """
            import pydeseq2.dds

            trend = self.uns["trend"]

            class RefitDeseqDataSet(type(self)):  # type: ignore[misc]
                def disp_function(self, x: Any) -> Any:
                    return trend(np.asarray(x, dtype=float))

            base = pydeseq2.dds.DeseqDataSet
            pydeseq2.dds.DeseqDataSet = RefitDeseqDataSet
            try:
                super()._refit_without_outliers()
            finally:
                pydeseq2.dds.DeseqDataSet = base

    return RTrendDeseqDataSet


def fit_model(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    design: Design,
    settings: Mapping[str, Any],
    *,
    threads: int = 1,
    keep_dds: bool = False,
) -> tuple[FittedModel, DeseqDataSet | None]:
    """Fit the DESeq2 model of ``design`` to ``counts`` (genes x samples, integers).

    Runs size factors, gene-wise / trend / MAP dispersions, coefficients, Cook's distances
    and outlier replacement (``cooks_refit``) exactly as ``DESeq2::DESeq()``, on ``threads``
    cores. ``samples``: samples x columns, the samples to fit, in that order. The prefilter
    of ``settings`` is applied first. Returns the model (and the pyDESeq2 object when
    ``keep_dds``, for VST).
    """
    kept = prefilter(_to_samples_by_genes(counts, samples.index).T, samples, design, settings)
    matrix = design.matrix(samples)
    engine = get_engine(settings["inference"], threads)
    logger.info(
        "fitting %s to %d genes x %d samples on %d thread(s) with the %s engine",
        design.formula.text, kept.shape[0], kept.shape[1], threads, settings["inference"],
    )  # fmt: skip
    with _limited_threads(threads), contextlib.redirect_stdout(_LogStream()):
        dds = _dds_class()(
            counts=_samples_by_genes_int64(kept, samples.index),
            metadata=samples.drop(columns=["sample"], errors="ignore"),
            design=matrix,
            fit_type=settings["fit_type"],
            size_factors_fit_type=settings["size_factors"],
            refit_cooks=bool(settings["cooks_refit"]),
            min_replicates=int(settings["min_replicates_for_replace"]),
            inference=engine,
            quiet=True,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dds.deseq2()
        for warning in caught:
            logger.warning("pyDESeq2: %s", warning.message)
    n_genes = dds.n_vars
    refitted = np.asarray(dds.var.get("refitted", np.zeros(n_genes, bool)), dtype=bool)
    replaced = np.asarray(dds.var.get("replaced", np.zeros(n_genes, bool)), dtype=bool)
    new_all_zero = np.zeros(n_genes, dtype=bool)
    if getattr(dds, "new_all_zeroes_genes", None) is not None and replaced.any():
        new_all_zero = dds.var_names.isin(dds.new_all_zeroes_genes)
    replaceable = np.asarray(
        dds.obs.get("replaceable", pd.Series(False, index=dds.obs_names)), dtype=bool
    )
    trend: dict[str, Any] = dds.uns["trend"].to_dict()
    metadata = {
        "format": MODEL_FORMAT,
        "settings": dict(settings),
        "formula": design.formula.text,
        "reference_levels": design.reference_levels,
        "sample_table": samples.drop(columns=["sample"], errors="ignore")
        .astype(str)
        .reset_index(names="sample")
        .to_dict("records"),
        "trend": trend,
        "prior_disp_var": float(np.asarray(dds.uns["prior_disp_var"]).item()),
        "n_genes_input": int(counts.shape[0]),
    }
    model = FittedModel(
        genes=np.asarray(dds.var_names, dtype=str),
        samples=np.asarray(dds.obs_names, dtype=str),
        counts=np.asarray(dds.X, dtype=np.int64),
        design=matrix,
        size_factors=dds.obs["size_factors"].to_numpy(dtype=float),
        base_mean=dds.var["_normed_means"].to_numpy(dtype=float),
        lfc=dds.varm["LFC"].to_numpy(dtype=float),
        dispersions=dds.var["dispersions"].to_numpy(dtype=float),
        genewise=dds.var["genewise_dispersions"].to_numpy(dtype=float),
        trend=dds.var["fitted_dispersions"].to_numpy(dtype=float),
        map_dispersions=dds.var["MAP_dispersions"].to_numpy(dtype=float),
        dispersion_outlier=np.asarray(dds.var["_outlier_genes"], dtype=bool),
        non_zero=np.asarray(dds.var["non_zero"], dtype=bool),
        replaced=replaced,
        refitted=refitted,
        new_all_zero=np.asarray(new_all_zero, dtype=bool),
        cooks_outlier=np.asarray(dds.var["_pvalue_cooks_outlier"], dtype=bool),
        cooks=np.asarray(dds.layers["cooks"], dtype=float),
        replaceable=replaceable,
        metadata=metadata,
    )
    return model, (dds if keep_dds else None)


class _LogStream:
    """File-like object sending pyDESeq2's stdout prints to the log at DEBUG level."""

    def write(self, text: str) -> int:
        if text.strip():
            logger.debug("pyDESeq2: %s", text.strip())
        return len(text)

    def flush(self) -> None:
        """Nothing buffered."""


# ------------------------------------------------------------------------------------------
# per-design outputs
# ------------------------------------------------------------------------------------------


def design_outputs(model: FittedModel, dds: DeseqDataSet | None = None) -> dict[str, pd.DataFrame]:
    """Per-design tables.

    Returns
    -------
    dict
        ``normalized_counts`` and ``vst`` / ``vst_blind`` (genes x samples; VST in log2
        units): the design-aware VST uses the fitted dispersion trend (R ``vst(blind =
        FALSE)``, full gene set), the blind one refits the trend with an intercept-only design
        (needs ``dds``; R ``varianceStabilizingTransformation(blind = TRUE)``);
        ``size_factors`` (sample, size_factor); ``dispersions`` (one row per gene);
        ``cooks_outliers`` (one row per sample).
    """
    genes = pd.Index(model.genes, name="gene_id")
    normalized = model.normalized_counts
    normalized.index = genes
    vst = pd.DataFrame(
        vst_values(
            normalized.to_numpy(),
            DispersionTrend.from_dict(model.metadata["trend"]),
            model.size_factors,
        ),
        index=genes,
        columns=model.samples,
    )
    out: dict[str, pd.DataFrame] = {"normalized_counts": normalized, "vst": vst}
    if dds is not None:
        threads = getattr(dds.inference, "n_cpus", 1)
        with (
            _limited_threads(threads),
            contextlib.redirect_stdout(_LogStream()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            dds.vst(use_design=False)
        out["vst_blind"] = pd.DataFrame(
            np.asarray(dds.layers["vst_counts"]).T, index=genes, columns=model.samples
        )
    out["size_factors"] = pd.DataFrame(
        {"size_factor": model.size_factors}, index=pd.Index(model.samples, name="sample")
    )
    out["dispersions"] = pd.DataFrame(
        {
            "baseMean": model.base_mean,
            "dispersion_genewise": model.genewise,
            "dispersion_trend": model.trend,
            "dispersion_map": model.map_dispersions,
            "dispersion_final": model.dispersions,
            "dispersion_outlier": model.dispersion_outlier,
            "cooks_replaced": model.replaced,
            "cooks_refitted": model.refitted,
            "cooks_outlier": model.cooks_outlier,
        },
        index=genes,
    )
    n, p = model.design.shape
    cutoff = float(f_dist.ppf(0.99, p, n - p))
    above = np.nan_to_num(model.cooks, nan=0.0) > cutoff
    cooks_max = np.nanmax(np.where(np.isnan(model.cooks), -np.inf, model.cooks), axis=1)
    out["cooks_outliers"] = pd.DataFrame(
        {
            "n_genes_above_cutoff": above.sum(axis=1),
            "cooks_cutoff": cutoff,
            "max_cooks": cooks_max,
            "replaceable": model.replaceable,
            "n_counts_replaced": (above & model.replaceable[:, None] & model.replaced).sum(axis=1),
            "top_genes": [
                ";".join(genes[np.argsort(-np.nan_to_num(row, nan=0.0))[:5]][: int(k)])
                for row, k in zip(model.cooks, above.sum(axis=1), strict=True)
            ],
        },
        index=pd.Index(model.samples, name="sample"),
    )
    return out


# ------------------------------------------------------------------------------------------
# contrasts
# ------------------------------------------------------------------------------------------


def _r_lowess(x: np.ndarray, y: np.ndarray, f: float, iterations: int = 3) -> np.ndarray:
    """R's ``stats::lowess(x, y, f, iter = iterations)``: fitted values in the order of ``x``.

    Cleveland's LOWESS (J. Am. Stat. Assoc. 74:829, 1979; netlib ``lowess``) with the
    conventions of R's ``clowess`` and sequential sums, so that it gives R's numbers to the
    last bits (tested against R): a window of ``int(f n)`` nearest points, tricube weights
    with R's 0.001 / 0.999 bandwidth cut-offs, ``iterations`` robustness steps after the
    first fit (bisquare weights of 6 x median absolute residual) and linear interpolation over
    points closer than ``delta = 1 %`` of the range of ``x``.
    pyDESeq2's own ``lowess`` is a different smoother (one more neighbour, one robustness step
    fewer, no cut-offs), which moves the independent-filtering threshold away from R's when
    the rejection curve is flat (tests/golden/README.md). Pure Python: meant for the 50-point
    rejection curve.
    """
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    xs = [float(v) for v in np.asarray(x, dtype=float)[order]]
    ys = [float(v) for v in np.asarray(y, dtype=float)[order]]
    n = len(xs)
    if n < 2:
        return np.asarray(y, dtype=float).copy()
    span = xs[-1] - xs[0]
    delta = 0.01 * span
    ns = max(2, min(n, int(f * n + 1e-7)))
    fit = [0.0] * n
    robustness = [1.0] * n
    weights = [0.0] * n

    def local_fit(x0: float, left: int, right: int, robust: bool) -> float | None:
        h = max(x0 - xs[left], xs[right] - x0)
        h9, h1 = 0.999 * h, 0.001 * h
        total = 0.0
        j = left
        while j < n:
            weights[j] = 0.0
            r = abs(xs[j] - x0)
            if r <= h9:
                if r <= h1:
                    weights[j] = 1.0
                else:
                    q = r / h
                    q = 1.0 - q * q * q
                    weights[j] = q * q * q
                if robust:
                    weights[j] *= robustness[j]
                total += weights[j]
            elif xs[j] > x0:
                break
            j += 1
        last = j - 1
        if total <= 0.0:
            return None
        for k in range(left, last + 1):
            weights[k] /= total
        if h > 0.0:
            centre = 0.0
            for k in range(left, last + 1):
                centre += weights[k] * xs[k]
            slope = x0 - centre
            spread = 0.0
            for k in range(left, last + 1):
                spread += weights[k] * ((xs[k] - centre) * (xs[k] - centre))
            if math.sqrt(spread) > 0.001 * span:
                slope /= spread
                for k in range(left, last + 1):
                    weights[k] *= slope * (xs[k] - centre) + 1.0
        value = 0.0
        for k in range(left, last + 1):
            value += weights[k] * ys[k]
        return value

    for step in range(iterations + 1):
        left, right, last, i = 0, ns - 1, -1, 0
        while True:
            if right < n - 1 and xs[i] - xs[left] > xs[right + 1] - xs[i]:
                left += 1
                right += 1
                continue
            value = local_fit(xs[i], left, right, step > 0)
            fit[i] = ys[i] if value is None else value
            if last < i - 1:
                denom = xs[i] - xs[last]
                for j in range(last + 1, i):
                    share = (xs[j] - xs[last]) / denom
                    fit[j] = share * fit[i] + (1.0 - share) * fit[last]
            last = i
            cut = xs[last] + delta
            i = last + 1
            while i < n and xs[i] <= cut:
                if xs[i] == xs[last]:
                    fit[i] = fit[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residuals = [abs(ys[k] - fit[k]) for k in range(n)]
        scale = 0.0
        for r in residuals:
            scale += r
        scale /= n
        if step == iterations:
            break
        ordered = sorted(residuals)
        m1 = n // 2
        cmad = 3.0 * (ordered[m1] + ordered[n - m1 - 1]) if n % 2 == 0 else 6.0 * ordered[m1]
        if cmad < 1e-7 * scale:
            break
        c9, c1 = 0.999 * cmad, 0.001 * cmad
        for k, r in enumerate(residuals):
            if r <= c1:
                robustness[k] = 1.0
            elif r <= c9:
                q = r / cmad
                q = 1.0 - q * q
                robustness[k] = q * q
            else:
                robustness[k] = 0.0
    out = np.empty(n)
    out[order] = fit
    return out


def _stats_class() -> type:
    """pyDESeq2's ``DeseqStats`` with R's Wald standard errors and independent filtering.

    R's ``nbinomWaldTest`` (C++ ``fitBeta``) computes the coefficient covariance from IRLS
    weights ``mu / (1 + alpha mu)`` with the fitted means floored at ``minmu = 0.5``;
    pyDESeq2 0.5 uses the unfloored means, which inflates the standard error of genes whose
    fitted mean is below 0.5 in some group (e.g. a gene silent in one condition) and can
    change their p-values by an order of magnitude. The subclass restores R's floor.

    Independent filtering follows R's ``pvalueAdjustment`` (DESeq2 1.38) with R's
    ``lowess`` (:func:`_r_lowess`) instead of pyDESeq2's approximation, so that the same
    p-values give the same filter threshold and the same padj.
    """
    from pydeseq2.ds import DeseqStats
    from scipy.stats import false_discovery_control

    class RWaldDeseqStats(DeseqStats):
        def _independent_filtering(self) -> None:
            if not hasattr(self, "p_values"):
                self.run_wald_test()
            base_mean = np.asarray(self.base_mean, dtype=float)
            pvalues = self.p_values.to_numpy(dtype=float)
            lower = float(np.mean(base_mean == 0))
            theta = np.linspace(lower, 0.95 if lower < 0.95 else 1.0, 50)
            cutoffs = np.quantile(base_mean, theta)
            padj = np.full((len(base_mean), len(theta)), np.nan)
            for i, cutoff in enumerate(cutoffs):
                use = (base_mean >= cutoff) & ~np.isnan(pvalues)
                if use.any():
                    padj[use, i] = false_discovery_control(pvalues[use], method="bh")
            with np.errstate(invalid="ignore"):
                rejections = (padj < self.alpha).sum(axis=0)
            if rejections.max() <= 10:
                j = 0
            else:
                trend = _r_lowess(theta, rejections.astype(float), f=1 / 5)
                positive = rejections > 0
                residual = rejections[positive] - trend[positive]
                threshold = trend.max() - math.sqrt(float(np.mean(residual**2)))
                above = np.flatnonzero(rejections > threshold)
                j = int(above[0]) if above.size else 0
            self.padj = pd.Series(padj[:, j], index=self.dds.var_names)

        def run_wald_test(self) -> None:
            num_vars = self.design_matrix.shape[1]
            # pyDESeq2's mu = max(sf exp(X beta), min_mu), in one array (pyDESeq2 goes through
            # three samples x genes DataFrames): the same values
            mu = self.design_matrix.to_numpy(dtype=float) @ self.LFC.to_numpy(dtype=float).T
            np.exp(mu, out=mu)
            mu *= self.dds.obs["size_factors"].to_numpy(dtype=float)[:, None]
            np.maximum(mu, self.dds.min_mu, out=mu)
            if self.prior_LFC_var is not None:
                ridge_factor = np.diag(1 / self.prior_LFC_var**2)
            else:
                ridge_factor = np.diag(np.repeat(1e-6, num_vars))
            pvals, stats, se = self.inference.wald_test(
                design_matrix=self.design_matrix.to_numpy(),
                disp=self.dds.var["dispersions"].to_numpy(),
                lfc=self.LFC.to_numpy(),
                mu=mu,
                ridge_factor=ridge_factor,
                contrast=self.contrast_vector,
                lfc_null=np.log(2) * self.lfc_null,
                alt_hypothesis=self.alt_hypothesis,
            )
            self.p_values = pd.Series(pvals, index=self.dds.var_names)
            self.statistics = pd.Series(stats, index=self.dds.var_names)
            self.SE = pd.Series(se, index=self.dds.var_names)
            if self.dds.refit_cooks and self.dds.var["replaced"].sum() > 0:
                self.SE.loc[self.dds.new_all_zeroes_genes] = 0.0
                self.statistics.loc[self.dds.new_all_zeroes_genes] = 0.0
                self.p_values.loc[self.dds.new_all_zeroes_genes] = 1.0

    return RWaldDeseqStats


def _counts_as_fitted(model: FittedModel) -> np.ndarray:
    """Samples x genes counts the final fit used: Cook's outliers of refitted genes replaced.

    The replacement of pyDESeq2's ``_replace_outliers`` (R's ``replaceOutliers``): in
    samples that allow replacement, a count whose Cook's distance is above the 99 % quantile
    of F(p, n - p) becomes the gene's 20 %-trimmed mean of normalized counts times the
    sample's size factor (truncated to an integer).
    """
    from pydeseq2.utils import trimmed_mean

    counts = model.counts.astype(float)
    genes = np.flatnonzero(model.refitted)
    if genes.size == 0:
        return counts
    n, p = model.design.shape
    cutoff = float(f_dist.ppf(0.99, p, n - p))
    sf = model.size_factors
    block = counts[:, genes]
    trimmed = np.asarray(trimmed_mean(block / sf[:, None], trim=0.2, axis=0))
    replacement = (trimmed[None, :] * sf[:, None]).astype(int)
    where = model.replaceable[:, None] & (model.cooks[:, genes] > cutoff)
    block[where] = replacement[where]
    counts[:, genes] = block
    return counts


def lrt_results(
    model: FittedModel, reduced: pd.DataFrame, *, engine: Inference, alpha: float
) -> pd.DataFrame:
    """R's ``results(dds, alpha = alpha)`` after ``DESeq(dds, test = "LRT", reduced = ...)``.

    ``reduced``: samples x coefficients design matrix of the reduced model (nested in the
    model's). Returns one row per gene (index gene_id): baseMean, log2FoldChange and lfcSE
    of the model's last coefficient (Wald, as R reports them), stat (the LRT statistic),
    pvalue (chi-squared on the difference in coefficients), padj (Cook's filtering and
    independent filtering as for the Wald test), and ``test`` = ``LRT``.
    """
    from redoxseq.de.lrt import likelihood_ratio_test

    nz = np.flatnonzero(model.non_zero & ~model.new_all_zero)
    counts = _counts_as_fitted(model)
    stat = np.full(len(model.genes), np.nan)
    pvalue = np.full(len(model.genes), np.nan)
    stat[nz], pvalue[nz], df = likelihood_ratio_test(
        counts[:, nz], model.size_factors, model.design.to_numpy(dtype=float), model.lfc[nz],
        reduced.loc[list(model.samples)].to_numpy(dtype=float), model.dispersions[nz], engine,
    )  # fmt: skip
    stat[model.new_all_zero] = 0.0
    pvalue[model.new_all_zero] = 1.0
    lrt_stat = pd.Series(stat, index=model.genes)
    lrt_p = pd.Series(pvalue, index=model.genes)

    class LRTStats(_stats_class()):  # type: ignore[misc]
        def run_wald_test(self) -> None:
            super().run_wald_test()
            self.statistics = lrt_stat.set_axis(self.dds.var_names)
            self.p_values = lrt_p.set_axis(self.dds.var_names).copy()

    last = np.zeros(model.design.shape[1])
    last[-1] = 1.0
    dds = model.to_dds(engine)
    with _limited_threads(getattr(engine, "n_cpus", 1)), contextlib.redirect_stdout(_LogStream()):
        stats = LRTStats(
            dds, contrast=last, alpha=alpha, cooks_filter=True, independent_filter=True,
            inference=engine, quiet=True,
        )  # fmt: skip
        stats.summary()
    res = stats.results_df.copy()
    res.index.name = "gene_id"
    res["test"] = "LRT"
    logger.info(
        "LRT %s vs %s (%d df): %d genes with padj < %g",
        model.metadata["formula"], list(reduced.columns), df,
        int((res["padj"] < alpha).sum()), alpha,
    )  # fmt: skip
    return res


def _annotate(table: pd.DataFrame, annotation: pd.DataFrame | None) -> pd.DataFrame:
    names = pd.Series(table.index, index=table.index, dtype=object)
    if annotation is not None and "gene_name" in annotation.columns:
        mapped = annotation["gene_name"].reindex(table.index)
        names = mapped.where(mapped.notna() & (mapped.astype(str) != ""), names)
    table.insert(0, "gene_name", names.astype(str))
    return table


def _na_reason(res: pd.DataFrame, model: FittedModel) -> pd.Series:
    reason = pd.Series("", index=res.index, dtype=object)
    reason[res["padj"].isna() & res["pvalue"].notna()] = "low_mean_filtered"
    reason[res["pvalue"].isna() & model.cooks_outlier] = "cooks_outlier"
    reason[~model.non_zero] = "all_zero"
    return reason


def contrast_results(
    model: FittedModel,
    contrast: Contrast,
    *,
    engine: Inference,
    annotation: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Wald test (and apeGLM shrinkage where possible) of one contrast on a fitted model.

    Parameters
    ----------
    model : the fit (its design columns must be ``contrast.columns``).
    contrast : resolved contrast (:func:`redoxseq.de.design.resolve_contrasts`).
    engine : pyDESeq2 inference engine (:func:`get_engine`).
    annotation : gene annotation indexed by gene_id with a ``gene_name`` column.

    Returns
    -------
    dict
        ``results``: one row per gene (index gene_id): gene_name, baseMean, log2FoldChange,
        lfcSE, stat, pvalue, padj, log2FoldChange_shrunk, lfcSE_shrunk, significant
        (``up``/``down``/empty; ``changed``/empty for an LRT, which claims no direction:
        its ``up`` / ``down`` lists are empty), padj_na_reason, test (``Wald``/``LRT``), then
        ``mean_norm_<group>`` (mean normalized counts of each group the contrast names);
        ``up`` / ``down``: significant genes by padj; ``summary``: one row.
    """
    if tuple(model.design.columns) != contrast.columns:
        raise ConfigError(
            f"contrasts.{contrast.name}: its coefficients {contrast.columns} do not match the "
            f"fitted model's {tuple(model.design.columns)}; rerun the deseq2_fit rule"
        )
    t = contrast.thresholds
    lrt = contrast.test == "LRT"
    if lrt:
        if contrast.reduced is None:
            raise ConfigError(f"contrasts.{contrast.name}: test: LRT without a reduced design")
        fitted = model.sample_table.loc[list(model.samples)]
        res = lrt_results(
            model, contrast.reduced.matrix(fitted), engine=engine, alpha=t.alpha
        ).drop(columns="test")
        shrunk = pd.Series(np.nan, index=res.index)
        shrunk_se = pd.Series(np.nan, index=res.index)
    else:
        dds = model.to_dds(engine)
        vector = np.asarray(contrast.vector, dtype=float)
        threads = getattr(engine, "n_cpus", 1)
        with _limited_threads(threads), contextlib.redirect_stdout(_LogStream()):
            stats = _stats_class()(
                dds,
                contrast=vector,
                alpha=t.alpha,
                cooks_filter=True,
                independent_filter=True,
                lfc_null=t.lfc_null,
                alt_hypothesis=t.alt_hypothesis,
                inference=engine,
                quiet=True,
            )
            stats.summary()
            res = stats.results_df.copy()
            shrunk = pd.Series(np.nan, index=res.index)
            shrunk_se = pd.Series(np.nan, index=res.index)
            if contrast.shrinkage is not None:
                shrunk, shrunk_se = _shrink(model, contrast, dds, engine)
    res.index.name = "gene_id"
    res["log2FoldChange_shrunk"] = shrunk
    res["lfcSE_shrunk"] = shrunk_se
    cut_lfc = (
        res["log2FoldChange_shrunk"]
        if t.cutoff_on_shrunk and contrast.shrinkage
        else res["log2FoldChange"]
    )
    if t.pvalue is not None:
        significant = res["pvalue"] < t.pvalue
        if t.padj is not None:
            significant &= res["padj"] < t.padj
    else:
        significant = res["padj"] < (t.padj if t.padj is not None else t.alpha)
    significant = significant.fillna(False).astype(bool)
    if lrt:  # an LRT says that a gene changes somewhere, not in which direction
        up = down = pd.Series(False, index=res.index)
        res["significant"] = np.where(significant, "changed", "")
    else:
        up = significant & (cut_lfc > t.log2fc)
        down = significant & (cut_lfc < -t.log2fc)
        res["significant"] = np.where(up, "up", np.where(down, "down", ""))
    res["padj_na_reason"] = _na_reason(res, model)
    res["test"] = contrast.test
    normalized = model.normalized_counts
    samples = model.sample_table.loc[list(model.samples)]
    for group in contrast.groups:
        members = group.members(samples)
        res[_group_column(group, contrast)] = (
            normalized.loc[:, list(members)].mean(axis=1).to_numpy()
        )
    res = _annotate(res, annotation)
    lists = {
        direction: res.loc[mask]
        .sort_values(["padj", "pvalue"], kind="mergesort")
        .loc[
            :,
            [
                "gene_name",
                "baseMean",
                "log2FoldChange",
                "log2FoldChange_shrunk",
                "lfcSE",
                "pvalue",
                "padj",
            ],
        ]
        for direction, mask in (("up", up), ("down", down))
    }
    tested = res["pvalue"].notna()
    summary = pd.DataFrame(
        [
            {
                "contrast": contrast.name,
                "description": contrast.description,
                "test": contrast.test,
                "reduced": contrast.reduced.formula.text if contrast.reduced else "",
                "vector": contrast.vector_text,
                "n_samples": len(model.samples),
                "n_genes": len(res),
                "n_tested": int(tested.sum()),
                "n_cooks_outliers": int((res["padj_na_reason"] == "cooks_outlier").sum()),
                "n_low_mean_filtered": int((res["padj_na_reason"] == "low_mean_filtered").sum()),
                "alpha": t.alpha,
                "significance": t.describe(),
                # The numeric cutoffs behind `significance` (NaN when not used), for figures.
                "padj_cutoff": (
                    t.padj if t.padj is not None else (t.alpha if t.pvalue is None else np.nan)
                ),
                "pvalue_cutoff": t.pvalue if t.pvalue is not None else np.nan,
                "log2fc_cutoff": t.log2fc,
                "cutoff_on_shrunk": bool(t.cutoff_on_shrunk),
                "lfc_null": t.lfc_null,
                "alt_hypothesis": t.alt_hypothesis or "",
                "n_up": int(up.sum()),
                "n_down": int(down.sum()),
                # genes called: past the test's cutoff and, for Wald, the fold-change cutoff
                "n_significant": int(significant.sum()) if lrt else int(up.sum() + down.sum()),
                "shrinkage": contrast.shrink_note,
            }
        ]
    ).set_index("contrast")
    logger.info(
        "%s: %d up, %d down at %s (%d genes tested)",
        contrast.name, int(up.sum()), int(down.sum()), t.describe(), int(tested.sum()),
    )  # fmt: skip
    return {"results": res, "up": lists["up"], "down": lists["down"], "summary": summary}


def _group_column(group: Any, contrast: Contrast) -> str:
    labels = [g.label for g in contrast.groups]
    if labels.count(group.label) > 1 or not group.label:
        return "mean_norm_" + "_".join(f"{f}-{lvl}" for f, lvl in group.levels)
    return f"mean_norm_{group.label}"


def _shrink(
    model: FittedModel, contrast: Contrast, dds: DeseqDataSet, engine: Inference
) -> tuple[pd.Series, pd.Series]:
    """apeGLM-shrunk log2FC (and its SE) of a contrast equal to one coefficient."""
    plan = contrast.shrinkage
    assert plan is not None
    lfc = dds.varm["LFC"]
    design_matrix = model.design
    if plan.relevelled:
        samples = model.sample_table.loc[list(model.samples)]
        settings = model.metadata["settings"]
        new_design = build_design(
            parse_formula(model.metadata["formula"]), samples, plan.reference_levels,
            settings["continuous"],
        )  # fmt: skip
        new_matrix = new_design.matrix(samples)
        transform, *_ = np.linalg.lstsq(new_matrix.to_numpy(), design_matrix.to_numpy(), rcond=None)
        # beta_new = T beta_old, so LFC_new (genes x p) = LFC_old @ T'
        lfc = pd.DataFrame(
            lfc.to_numpy() @ transform.T, index=lfc.index, columns=new_matrix.columns
        )
        design_matrix = new_matrix
        logger.info(
            "%s: shrinking coefficient %s after re-levelling to %s (coefficients re-expressed; "
            "dispersions unchanged)", contrast.name, plan.coefficient, plan.reference_levels,
        )  # fmt: skip
    k = list(design_matrix.columns).index(plan.coefficient)
    unit = np.zeros(design_matrix.shape[1])
    unit[k] = 1.0
    stats = _stats_class()(dds, contrast=unit, inference=engine, quiet=True)
    stats.design_matrix = design_matrix
    stats.LFC = lfc.copy()
    stats.run_wald_test()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats.lfc_shrink(coeff=plan.coefficient)
    for warning in caught:
        logger.warning("pyDESeq2 lfc_shrink: %s", warning.message)
    shrunk = plan.sign * stats.LFC[plan.coefficient] / _LN2
    se = stats.SE / _LN2
    shrunk[~model.non_zero] = np.nan
    se[~model.non_zero] = np.nan
    return shrunk, se


# ------------------------------------------------------------------------------------------
# entry points for the workflow adapters (objects in, objects out)
# ------------------------------------------------------------------------------------------


def fit_design(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    settings: Mapping[str, Any],
    *,
    threads: int,
) -> tuple[FittedModel, dict[str, pd.DataFrame], tuple[str, ...]]:
    """Fit the main design once and compute its per-design tables.

    Parameters
    ----------
    counts
        Genes x samples, non-negative integers (index gene_id).
    samples
        The sample sheet, samples x columns (index: sample name).
    settings
        The ``deseq2:`` settings of the fit (:func:`redoxseq.de.design.fit_settings`).
    threads
        Cores for the fit.

    Returns
    -------
    tuple
        The fitted model; ``normalized_counts``, ``vst``, ``vst_blind``, ``size_factors``,
        ``dispersions`` and ``cooks_outliers`` tables; the pre-flight warnings.
    """
    report = preflight(samples, settings, {})
    model, dds = fit_model(
        counts,
        samples.loc[list(report.samples)],
        report.design,
        report.settings,
        threads=threads,
        keep_dds=True,
    )
    return model, design_outputs(model, dds), report.warnings


def resolve_job_contrast(samples: pd.DataFrame, job: Mapping[str, Any]) -> Contrast:
    """The resolved contrast of one contrast job.

    ``job`` is :func:`redoxseq.de.design.contrast_job_settings`' output: ``name``, the
    ``deseq2`` settings and the ``contrasts`` entries this contrast uses.
    """
    settings = deseq2_settings(job["deseq2"])
    name = str(job["name"])
    return resolve_contrasts(samples, settings, job["contrasts"], names=[name])[name]


def evaluate_contrast(
    contrast: Contrast,
    settings: Mapping[str, Any],
    *,
    model: FittedModel,
    counts: pd.DataFrame | None,
    samples: pd.DataFrame,
    annotation: pd.DataFrame | None,
    threads: int,
) -> dict[str, pd.DataFrame]:
    """Test one resolved contrast: on ``model``, or on its own fit when it excludes samples.

    ``counts`` (genes x samples) is needed only for a contrast with ``exclude:``
    (``contrast.own_fit``). Returns :func:`contrast_results`' tables.
    """
    settings = deseq2_settings(settings)
    if contrast.own_fit:
        if counts is None:
            raise ValueError(f"contrast {contrast.name} is fitted on its own: counts needed")
        logger.info("%s: fitting without %s", contrast.name, ", ".join(contrast.exclude))
        used = samples.loc[list(contrast.samples)]
        model, _ = fit_model(counts, used, contrast.design, settings, threads=threads)
    engine = get_engine(settings["inference"], threads)
    return contrast_results(model, contrast, engine=engine, annotation=annotation)
