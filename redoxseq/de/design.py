"""Design formulas, design matrices, named contrasts and the design pre-flight.

This module is light (numpy + pandas only) so that the workflow can call :func:`preflight`
at parse time, before any job runs; pyDESeq2 is only imported by :mod:`redoxseq.de.fit`.

Design matrices follow R's ``model.matrix`` rules with treatment coding, so that
coefficients mean what DESeq2 users expect:

* terms are ordered by degree (main effects, then two-way interactions, ...), keeping the
  order of the formula within a degree; ``a * b`` expands to ``a + b + a:b``;
* a factor in a term is coded by treatment contrasts (one 0/1 column per non-reference
  level) when the term without that factor is a preceding term (or the intercept),
  otherwise by one indicator column per level (R's rule, "Statistical Models in S" p. 38);
  e.g. ``~ cell_line + cell_line:treatment`` gives one treatment effect per cell line;
* continuous covariates (listed in ``deseq2.continuous``) enter as their numeric value;
  every other design variable is a factor, even when its values look like numbers.

Column names use pyDESeq2/formulaic's style: ``Intercept``, ``cell_line[T.resistant]``,
``cell_line[T.resistant]:treatment[T.sorafenib]``, ``cell_line[resistant]`` (indicator
coding) and ``age`` (continuous).

Contrasts are named by *cell means*: a cell is one combination of factor levels (factors not
named are at their reference level, continuous covariates at 0, as in R's coefficients);
its design-matrix row ``x`` gives the model's log expression ``x @ beta`` in that cell. A
simple contrast is ``row(numerator cell) - row(denominator cell)``; a difference (interaction)
or a weighted combination of simple contrasts is the same combination of their vectors.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from redoxseq.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "CONTRAST_NAME",
    "DEFAULT_DESEQ2",
    "Contrast",
    "Design",
    "Formula",
    "PreflightReport",
    "Thresholds",
    "build_design",
    "contrast_job_settings",
    "deseq2_settings",
    "fit_settings",
    "parse_formula",
    "preflight",
    "resolve_contrasts",
]

CONTRAST_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VARIABLE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_MAX_RELEVEL_COMBINATIONS = 4096

AltHypothesis = Literal["greaterAbs", "lessAbs", "greater", "less"]
ALT_HYPOTHESES: tuple[str, ...] = ("greaterAbs", "lessAbs", "greater", "less")

#: Defaults of the ``deseq2:`` config section (the schema states the same defaults).
DEFAULT_DESEQ2: dict[str, Any] = {
    "design": "~ cell_line + treatment + cell_line:treatment",
    "reference_levels": {"cell_line": "sensitive", "treatment": "vehicle"},
    "continuous": [],
    "exclude_samples": [],
    "prefilter": {"min_count": 0, "min_samples": "smallest_group"},  # R: no prefilter
    "size_factors": "ratio",
    "fit_type": "parametric",
    "cooks_refit": True,
    "min_replicates_for_replace": 7,
    "inference": "batched",
    "shrink": True,
    "thresholds": {
        "alpha": 0.1,
        "padj": None,
        "pvalue": None,
        "log2fc": 0.0,
        "fold_change": None,
        "lfc_null": 0.0,
        "alt_hypothesis": None,
        "cutoff_on_shrunk": False,
    },
}


# ------------------------------------------------------------------------------------------
# formulas
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A parsed design formula.

    Attributes
    ----------
    text : the formula as written.
    intercept : whether the model has an intercept.
    terms : non-intercept terms, each a tuple of variable names in order of first appearance
        in the formula, ordered by degree as R does.
    variables : every variable, in order of first appearance.
    """

    text: str
    intercept: bool
    terms: tuple[tuple[str, ...], ...]
    variables: tuple[str, ...]


def parse_formula(text: str, *, key: str = "deseq2.design") -> Formula:
    """Parse ``~ a + b + a:b`` style formulas (``*``, ``:``, ``+``, ``0``/``- 1``/``1``).

    Raises
    ------
    ConfigError
        For anything else (parentheses, functions such as ``C()`` or ``log()``, a missing
        ``~``): the message says what is supported.
    """
    if not isinstance(text, str) or not text.strip().startswith("~"):
        raise ConfigError(
            f"{key}: {text!r} is not a design formula; write it like '~ batch + condition' "
            "(a '~' followed by sample-sheet columns joined with +, : or *)"
        )
    body = text.strip()[1:].replace(" ", "")
    if not body:
        raise ConfigError(f"{key}: {text!r} has no terms; e.g. '~ condition'")
    if re.search(r"[()^%/|]", body):
        raise ConfigError(
            f"{key}: {text!r} uses syntax redoxseq does not support (parentheses, functions, "
            "'/', '^', '%in%'). Use columns joined by +, : and *; declare numeric covariates "
            "in deseq2.continuous and everything else is a factor"
        )
    intercept = True
    chunks: list[str] = []
    for piece in re.split(r"(?=[+-])", body):
        if not piece:
            continue
        sign = "+"
        if piece[0] in "+-":
            sign, piece = piece[0], piece[1:]
        if not piece:
            raise ConfigError(f"{key}: {text!r} has an empty term (two operators in a row?)")
        if piece in {"0", "1"}:
            if piece == "0" or sign == "-":
                intercept = False
            continue
        if sign == "-":
            raise ConfigError(
                f"{key}: {text!r}: removing terms ('- {piece}') is not supported; "
                "write the terms you want"
            )
        chunks.append(piece)
    ordered: list[str] = []
    raw_terms: list[tuple[str, ...]] = []
    for chunk in chunks:
        for name in re.split(r"[*:]", chunk):
            if not _VARIABLE.match(name):
                raise ConfigError(
                    f"{key}: {name!r} in {text!r} is not a column name (letters, digits, "
                    "'_' and '.', not starting with a digit)"
                )
            if name not in ordered:
                ordered.append(name)
        if "*" in chunk:
            crossed = [part.split(":") for part in chunk.split("*")]
            for size in range(1, len(crossed) + 1):
                for combo in itertools.combinations(crossed, size):
                    raw_terms.append(tuple(name for part in combo for name in part))
        else:
            raw_terms.append(tuple(chunk.split(":")))
    seen: set[frozenset[str]] = set()
    unique: list[tuple[str, ...]] = []
    for term in raw_terms:
        members = frozenset(term)
        if members in seen:
            continue
        seen.add(members)
        unique.append(tuple(name for name in ordered if name in members))
    unique.sort(key=len)  # stable: keeps the written order within one degree
    if not unique and not intercept:
        raise ConfigError(f"{key}: {text!r} has no terms and no intercept")
    return Formula(text=text, intercept=intercept, terms=tuple(unique), variables=tuple(ordered))


# ------------------------------------------------------------------------------------------
# design matrices
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    parts: tuple[tuple[str, str | None], ...]  # (variable, level) ; level None = continuous


@dataclass(frozen=True)
class Design:
    """A design formula bound to factor levels: builds design matrices and cell rows.

    Attributes
    ----------
    formula : the parsed formula.
    levels : factor -> its levels, reference level first, the others in sorted order.
    continuous : continuous covariates.
    columns : design-matrix column names (the model coefficients), in order.
    """

    formula: Formula
    levels: Mapping[str, tuple[str, ...]]
    continuous: tuple[str, ...]
    columns: tuple[str, ...]
    _spec: tuple[_Column, ...] = field(repr=False)

    @property
    def factors(self) -> tuple[str, ...]:
        """Factor variables of the design, in formula order."""
        return tuple(v for v in self.formula.variables if v in self.levels)

    @property
    def reference_levels(self) -> dict[str, str]:
        """Factor -> reference level."""
        return {factor: levels[0] for factor, levels in self.levels.items()}

    def rows(self, frame: pd.DataFrame) -> np.ndarray:
        """Design rows (len(frame) x len(columns), float) of the variable values in ``frame``."""
        out = np.ones((len(frame), len(self._spec)), dtype=float)
        for j, column in enumerate(self._spec):
            for variable, level in column.parts:
                values = frame[variable]
                if level is None:
                    out[:, j] *= values.astype(float).to_numpy()
                else:
                    out[:, j] *= (values.astype(str) == level).to_numpy()
        return out

    def matrix(self, samples: pd.DataFrame) -> pd.DataFrame:
        """Design matrix: samples x coefficients, float 0/1 (or covariate values)."""
        return pd.DataFrame(self.rows(samples), index=samples.index, columns=list(self.columns))

    def cell_row(self, cell: Mapping[str, Any]) -> np.ndarray:
        """Design row of one cell; factors not given are at their reference level.

        Continuous covariates not given are at 0 (R's coefficients are defined there).
        """
        values: dict[str, Any] = {factor: levels[0] for factor, levels in self.levels.items()}
        values.update({name: 0.0 for name in self.continuous})
        values.update(cell)
        return self.rows(pd.DataFrame([values]))[0]

    def interacting(self, variable: str) -> set[str]:
        """Variables sharing at least one model term with ``variable``."""
        out: set[str] = set()
        for term in self.formula.terms:
            if variable in term:
                out.update(term)
        out.discard(variable)
        return out


def _ordered_levels(values: Iterable[Any], reference: str | None) -> tuple[str, ...]:
    unique = sorted({str(value) for value in values})
    if reference is not None and reference in unique:
        unique.remove(reference)
        unique.insert(0, reference)
    return tuple(unique)


def build_design(
    formula: Formula,
    samples: pd.DataFrame,
    reference_levels: Mapping[str, str],
    continuous: Sequence[str] = (),
) -> Design:
    """Bind ``formula`` to the factor levels present in ``samples`` (samples x columns).

    Factor levels are those present among ``samples`` (unused levels are dropped, as after
    R's ``droplevels``); the reference level comes first, the others sort alphabetically.
    The caller checks that variables and reference levels exist (see :func:`preflight`).
    """
    levels: dict[str, tuple[str, ...]] = {}
    for variable in formula.variables:
        if variable in continuous:
            continue
        levels[variable] = _ordered_levels(samples[variable], reference_levels.get(variable))
    spec: list[_Column] = []
    if formula.intercept:
        spec.append(_Column("Intercept", ()))
    previous: list[frozenset[str]] = []
    full_coding_used = formula.intercept  # without intercept, the first factor is full-coded
    for term in formula.terms:
        codings: list[list[tuple[str, str | None, str]]] = []
        for variable in term:
            if variable not in levels:
                codings.append([(variable, None, variable)])
                continue
            margin = frozenset(term) - {variable}
            contrasts = not margin or any(margin <= earlier for earlier in previous)
            if not margin and not full_coding_used:
                contrasts = False
                full_coding_used = True
            names = levels[variable]
            if contrasts:
                codings.append([(variable, lvl, f"{variable}[T.{lvl}]") for lvl in names[1:]])
            else:
                codings.append([(variable, lvl, f"{variable}[{lvl}]") for lvl in names])
        # R varies the first variable of a term fastest
        for combo in itertools.product(*reversed(codings)):
            parts = tuple(reversed(combo))
            spec.append(
                _Column(
                    ":".join(label for _, _, label in parts),
                    tuple((variable, level) for variable, level, _ in parts),
                )
            )
        previous.append(frozenset(term))
    return Design(
        formula=formula,
        levels=levels,
        continuous=tuple(v for v in formula.variables if v in continuous),
        columns=tuple(column.name for column in spec),
        _spec=tuple(spec),
    )


def _confounded_columns(matrix: pd.DataFrame) -> list[str]:
    """Describe columns that are zero or linear combinations of earlier columns."""
    problems: list[str] = []
    kept: list[int] = []
    values = matrix.to_numpy(dtype=float)
    for j, name in enumerate(matrix.columns):
        column = values[:, j]
        if not np.any(column):
            problems.append(f"{name} is 0 for every sample (no sample in that group)")
            continue
        if kept:
            basis = values[:, kept]
            coef, *_ = np.linalg.lstsq(basis, column, rcond=None)
            if np.allclose(basis @ coef, column, atol=1e-8):
                parts = [
                    f"{'+' if c > 0 else '-'} {abs(c):g} x {matrix.columns[k]}"
                    for c, k in zip(coef, kept, strict=True)
                    if abs(c) > 1e-8
                ]
                problems.append(f"{name} = {' '.join(parts).lstrip('+ ')}")
                continue
        kept.append(j)
    return problems


# ------------------------------------------------------------------------------------------
# settings and thresholds
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Per-contrast test settings and significance cutoffs.

    Attributes
    ----------
    alpha : FDR target of independent filtering (R ``results(alpha=)``; default 0.1).
    padj : call a gene significant when ``padj < padj``; ``None`` = use ``alpha``.
    pvalue : call a gene significant when the raw ``pvalue < pvalue`` (instead of padj).
    log2fc : and ``|log2FC| > log2fc`` (``fold_change: 3`` gives ``log2(3)``).
    lfc_null, alt_hypothesis : Wald test against ``|LFC| = lfc_null`` (R ``lfcThreshold``,
        ``altHypothesis``); log2 units.
    cutoff_on_shrunk : apply the |log2FC| cutoff to the shrunk log2FC (when available).
    """

    alpha: float
    padj: float | None
    pvalue: float | None
    log2fc: float
    lfc_null: float
    alt_hypothesis: AltHypothesis | None
    cutoff_on_shrunk: bool

    def describe(self) -> str:
        """Cutoffs in words, e.g. ``padj < 0.03 and |log2FC| > 1.585 (fold change > 3)``."""
        if self.pvalue is not None:
            parts = [f"pvalue < {self.pvalue:g}"]
            if self.padj is not None:
                parts.append(f"padj < {self.padj:g}")
        else:
            parts = [f"padj < {self.padj if self.padj is not None else self.alpha:g}"]
        if self.log2fc > 0:
            lfc = "shrunk log2FC" if self.cutoff_on_shrunk else "log2FC"
            parts.append(f"|{lfc}| > {self.log2fc:.4g} (fold change > {2**self.log2fc:.4g})")
        return " and ".join(parts)


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in (given or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def deseq2_settings(deseq2_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``deseq2:`` section with every default filled in (input not modified)."""
    config = dict(deseq2_config or {})
    if "reference_levels" in config and config["reference_levels"] is not None:
        # reference levels given by the user replace the defaults as a whole
        defaults = {k: v for k, v in DEFAULT_DESEQ2.items() if k != "reference_levels"}
        merged = _merged(defaults, config)
    else:
        merged = _merged(DEFAULT_DESEQ2, {k: v for k, v in config.items() if v is not None})
    merged["reference_levels"] = {
        str(k): str(v) for k, v in (merged.get("reference_levels") or {}).items()
    }
    merged["continuous"] = [str(v) for v in merged.get("continuous") or []]
    merged["exclude_samples"] = [str(v) for v in merged.get("exclude_samples") or []]
    return merged


#: Keys of the ``deseq2:`` section that only set per-contrast defaults (not used by the fit).
CONTRAST_DEFAULT_KEYS: tuple[str, ...] = ("thresholds", "shrink")
#: Keys of a contrast entry that change its call but not the meaning of a contrast that
#: refers to it (``difference``/``combine`` use only the referred contrast's comparison).
_CALL_KEYS: frozenset[str] = frozenset(
    {
        "alpha", "padj", "pvalue", "log2fc", "fold_change", "lfc_null", "alt_hypothesis",
        "cutoff_on_shrunk", "shrink", "description",
    }
)  # fmt: skip


def fit_settings(deseq2_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings the model fit uses: the ``deseq2:`` section without per-contrast defaults.

    Passed to the fit job alone, so that editing a contrast's cutoffs (or the default
    thresholds) does not refit the model.
    """
    settings = deseq2_settings(deseq2_config)
    return {k: v for k, v in settings.items() if k not in CONTRAST_DEFAULT_KEYS}


def _referenced(value: Any, names: Iterable[str]) -> set[str]:
    """Contrast names that appear as string values anywhere inside a contrast entry."""
    known = set(names)
    if isinstance(value, str):
        return {value} & known
    if isinstance(value, Mapping):
        return set().union(*(_referenced(v, known) for v in value.values()), set())
    if isinstance(value, list | tuple):
        return set().union(*(_referenced(v, known) for v in value), set())
    return set()


def contrast_job_settings(
    name: str, deseq2_config: Mapping[str, Any] | None, contrasts_config: Mapping[str, Any]
) -> dict[str, Any]:
    """What the job of contrast ``name`` needs, and nothing else.

    Returns ``{"name", "deseq2", "contrasts"}``: the whole ``deseq2:`` section (the design to
    resolve against, the default thresholds), this contrast's entry, and the entries of the
    contrasts it refers to (``difference``/``combine``), the latter without their cutoffs: a
    referred contrast's ``alpha`` does not change this one. Editing another contrast's
    cutoffs therefore leaves this job's parameters unchanged.
    """
    if name not in contrasts_config:
        raise ConfigError(f"contrasts: no contrast named {name!r}")
    specs: dict[str, Any] = {name: contrasts_config[name]}
    stack = [name]
    while stack:
        current = stack.pop()
        for other in sorted(_referenced(contrasts_config[current], contrasts_config)):
            if other not in specs:
                entry = contrasts_config[other]
                if isinstance(entry, Mapping):
                    entry = {k: v for k, v in entry.items() if k not in _CALL_KEYS}
                specs[other] = entry
                stack.append(other)
    return {"name": name, "deseq2": deseq2_settings(deseq2_config), "contrasts": specs}


def _number(value: Any, key: str, *, low: float, high: float, closed: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: {value!r} is not a number")
    number = float(value)
    ok = low <= number <= high if closed else low < number < high
    if not ok or math.isnan(number):
        bounds = f"[{low:g}, {high:g}]" if closed else f"({low:g}, {high:g})"
        raise ConfigError(f"{key}: {value!r} is outside {bounds}")
    return number


def _thresholds(defaults: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> Thresholds:
    merged = dict(defaults)
    for key in ("alpha", "padj", "pvalue", "log2fc", "fold_change", "lfc_null"):
        if key in spec:
            merged[key] = spec[key]
    for key in ("alt_hypothesis", "cutoff_on_shrunk"):
        if key in spec:
            merged[key] = spec[key]
    if "log2fc" in spec and "fold_change" in spec:
        raise ConfigError(f"{where}: give either log2fc or fold_change, not both")
    alpha = _number(merged["alpha"], f"{where}.alpha", low=0, high=1)
    padj = merged.get("padj")
    padj = None if padj is None else _number(padj, f"{where}.padj", low=0, high=1, closed=True)
    pvalue = merged.get("pvalue")
    if pvalue is not None:
        pvalue = _number(pvalue, f"{where}.pvalue", low=0, high=1, closed=True)
    if merged.get("fold_change") is not None and "log2fc" not in spec:
        fold = _number(
            merged["fold_change"], f"{where}.fold_change", low=1, high=math.inf, closed=True
        )
        log2fc = math.log2(fold)
    else:
        log2fc = _number(
            merged.get("log2fc") or 0.0, f"{where}.log2fc", low=0, high=math.inf, closed=True
        )
    lfc_null = _number(
        merged.get("lfc_null") or 0.0, f"{where}.lfc_null", low=-math.inf, high=math.inf
    )
    alt = merged.get("alt_hypothesis")
    if alt is not None and alt not in ALT_HYPOTHESES:
        raise ConfigError(
            f"{where}.alt_hypothesis: {alt!r} is not one of {', '.join(ALT_HYPOTHESES)} "
            "(or null for the two-sided test of log2FC = lfc_null)"
        )
    if alt in {"greaterAbs", "lessAbs"} and lfc_null < 0:
        raise ConfigError(f"{where}.lfc_null: {lfc_null:g} must be >= 0 with {alt}")
    shrunk = merged.get("cutoff_on_shrunk", False)
    if not isinstance(shrunk, bool):
        raise ConfigError(f"{where}.cutoff_on_shrunk: {shrunk!r} must be true or false")
    return Thresholds(
        alpha=alpha,
        padj=padj,
        pvalue=pvalue,
        log2fc=log2fc,
        lfc_null=lfc_null,
        alt_hypothesis=alt,
        cutoff_on_shrunk=shrunk,
    )


# ------------------------------------------------------------------------------------------
# contrasts
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One group of samples: the levels that define it (the factors the contrast fixes)."""

    levels: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        """E.g. ``resistant_vehicle``."""
        return "_".join(level for _, level in self.levels)

    @property
    def words(self) -> str:
        """E.g. ``cell_line=resistant, treatment=vehicle``."""
        return ", ".join(f"{factor}={level}" for factor, level in self.levels)

    def members(self, samples: pd.DataFrame) -> pd.Index:
        """Samples of this group."""
        mask = np.ones(len(samples), dtype=bool)
        for factor, level in self.levels:
            mask &= (samples[factor].astype(str) == level).to_numpy()
        return samples.index[mask]


@dataclass(frozen=True)
class Shrinkage:
    """How a contrast is shrunk with apeGLM: the coefficient it equals, maybe after re-levelling.

    ``reference_levels`` are those of the parametrization in which the contrast equals
    ``sign`` x coefficient ``coefficient``; ``relevelled`` says whether they differ from the
    configured ones (the fitted coefficients are then re-expressed, not re-estimated).
    """

    coefficient: str
    sign: int
    reference_levels: Mapping[str, str]
    relevelled: bool


@dataclass(frozen=True)
class Contrast:
    """A named contrast resolved against a design.

    Attributes
    ----------
    name : config name (also the wildcard).
    kind : ``simple``, ``difference``, ``combination`` or ``vector``.
    description : plain words, starting with what ``log2FC > 0`` means.
    formula : the contrast in terms of simple contrasts, e.g. ``[A] - [B]``.
    vector : weights over ``columns`` (the design's coefficients).
    columns : design columns (coefficient names) of the design the vector refers to.
    cells : weighted cells ``(weight, Cell)`` (empty for expert vectors).
    samples : the samples this contrast is tested on.
    exclude : samples excluded for this contrast only (it then gets its own fit).
    thresholds : test settings and cutoffs.
    shrinkage : how the contrast is shrunk, or ``None`` when it is not one coefficient.
    shrink_note : why it is (not) shrunk, in words.
    design : the design the vector refers to (on ``samples``).
    test : ``Wald`` or ``LRT`` (likelihood-ratio test of ``design`` against ``reduced``;
        its log2FC is the design's last coefficient, as R reports it, with no direction
        claim).
    reduced : the reduced design of an LRT (on ``samples``), else None.
    """

    name: str
    kind: str
    description: str
    formula: str
    vector: tuple[float, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[float, Cell], ...]
    samples: tuple[str, ...]
    exclude: tuple[str, ...]
    thresholds: Thresholds
    shrinkage: Shrinkage | None
    shrink_note: str
    design: Design = field(repr=False, compare=False)
    test: str = "Wald"
    reduced: Design | None = field(default=None, repr=False, compare=False)

    @property
    def own_fit(self) -> bool:
        """True when the contrast excludes samples and so needs a fit of its own."""
        return bool(self.exclude)

    @property
    def vector_text(self) -> str:
        """The non-zero weights, e.g. ``+1 cell_line[T.resistant]:treatment[T.sorafenib]``."""
        parts = [
            f"{weight:+g} {name}"
            for weight, name in zip(self.vector, self.columns, strict=True)
            if weight != 0
        ]
        return "; ".join(parts)

    def two_groups(self, samples: pd.DataFrame) -> dict[str, Any]:
        """The contrast as a comparison of two sample groups, for per-sample scores.

        A simple contrast (``factor``, ``numerator``, ``denominator``, within its ``at``
        levels) gives ``{"numerator": label, "denominator": label, "numerator_samples":
        [...], "denominator_samples": [...]}`` (samples of this contrast only). Any other
        kind (``difference``/interaction, ``combine``, ``vector``, ``LRT``) is not a
        difference between two groups of samples: ``{"skip": reason}``.
        """
        if self.test == "LRT":
            return {"skip": "a likelihood-ratio test compares models, not two groups"}
        if self.kind != "simple":
            return {
                "skip": f"a {self.kind} contrast ({self.formula}) is not a difference between "
                "two groups of samples"
            }
        used = samples.loc[[s for s in samples.index if s in set(self.samples)]]
        numerator = [cell for weight, cell in self.cells if weight > 0]
        denominator = [cell for weight, cell in self.cells if weight < 0]
        if len(numerator) != 1 or len(denominator) != 1:
            return {"skip": f"{self.formula} does not name exactly two groups"}
        return {
            "numerator": numerator[0].label,
            "denominator": denominator[0].label,
            "numerator_samples": [str(x) for x in numerator[0].members(used)],
            "denominator_samples": [str(x) for x in denominator[0].members(used)],
        }

    @property
    def groups(self) -> tuple[Cell, ...]:
        """Distinct sample groups named by the contrast (for mean normalized counts)."""
        out: list[Cell] = []
        for _, cell in self.cells:
            if cell not in out:
                out.append(cell)
        return tuple(out)


@dataclass(frozen=True)
class _Term:
    weight: float
    cell: dict[str, str]  # full specification (factor levels given or implicit)
    group: Cell


@dataclass(frozen=True)
class _Resolved:
    terms: tuple[_Term, ...]
    formula: str
    words: str  # what log2FC > 0 means
    kind: str


def _check_level(design: Design, samples: pd.DataFrame, factor: str, level: Any, where: str) -> str:
    if factor in design.continuous:
        raise ConfigError(
            f"{where}: {factor!r} is a continuous covariate; contrasts compare factor levels "
            "(use an expert 'vector:' to test a covariate's coefficient)"
        )
    if factor not in design.levels:
        raise ConfigError(
            f"{where}: {factor!r} is not a factor of the design {design.formula.text!r}; "
            f"design factors: {', '.join(design.levels) or 'none'}"
        )
    text = str(level)
    if text not in design.levels[factor]:
        raise ConfigError(
            f"{where}: level {text!r} of {factor!r} is not in the samples this contrast uses; "
            f"levels present: {', '.join(design.levels[factor])}"
        )
    return text


def _resolve_simple(
    design: Design, samples: pd.DataFrame, spec: Mapping[str, Any], where: str
) -> _Resolved:
    for key in ("factor", "numerator", "denominator"):
        if key not in spec:
            raise ConfigError(
                f"{where}: a simple contrast needs 'factor', 'numerator' and 'denominator' "
                f"(missing {key!r}); e.g. {{factor: treatment, numerator: sorafenib, "
                "denominator: vehicle, at: {cell_line: resistant}}"
            )
    factor = str(spec["factor"])
    numerator = _check_level(design, samples, factor, spec["numerator"], f"{where}.numerator")
    denominator = _check_level(design, samples, factor, spec["denominator"], f"{where}.denominator")
    if numerator == denominator:
        raise ConfigError(f"{where}: numerator and denominator are both {numerator!r}")
    at_raw = spec.get("at") or {}
    if not isinstance(at_raw, Mapping):
        raise ConfigError(f"{where}.at: expected a mapping factor: level, got {at_raw!r}")
    at: dict[str, str] = {}
    for other, level in at_raw.items():
        other = str(other)
        if other == factor:
            raise ConfigError(f"{where}.at: {other!r} is the factor being compared")
        at[other] = _check_level(design, samples, other, level, f"{where}.at.{other}")
    interacting = design.interacting(factor)
    notes: list[str] = []
    for other in at:
        if other not in interacting:
            notes.append(
                f"the design has no {factor}:{other} interaction, so this log2FC is the "
                f"{factor} effect common to every {other} level (not specific to {other}="
                f"{at[other]})"
            )
    implicit = {
        other: design.levels[other][0]
        for other in design.factors
        if other in interacting and other != factor and other not in at
    }
    fixed = {**at, **implicit}
    order = [v for v in design.factors if v == factor or v in fixed]
    group_vars = [v for v in order if v == factor or v in at or v in implicit]
    num_cell = {factor: numerator, **fixed}
    den_cell = {factor: denominator, **fixed}
    num_group = Cell(tuple((v, num_cell[v]) for v in group_vars))
    den_group = Cell(tuple((v, den_cell[v]) for v in group_vars))
    context = ""
    if fixed:
        pieces = [f"{k}={v}" for k, v in at.items()]
        pieces += [f"{k}={v} (reference level)" for k, v in implicit.items()]
        context = " among samples with " + ", ".join(pieces)
    words = (
        f"log2FC > 0 means higher in {factor}={numerator} than in {factor}={denominator}{context}"
    )
    if notes:
        words += "; note: " + "; ".join(notes)
        for note in notes:
            logger.warning("%s: %s", where, note)
    label = f"{factor} {numerator} vs {denominator}"
    if fixed:
        label += " in " + ", ".join(f"{k}={v}" for k, v in fixed.items())
    return _Resolved(
        terms=(_Term(1.0, num_cell, num_group), _Term(-1.0, den_cell, den_group)),
        formula=f"[{label}]",
        words=words,
        kind="simple",
    )


def _resolve(
    design: Design,
    samples: pd.DataFrame,
    spec: Any,
    where: str,
    contrasts_config: Mapping[str, Any],
    stack: tuple[str, ...],
) -> _Resolved:
    if isinstance(spec, str):
        if spec not in contrasts_config:
            raise ConfigError(
                f"{where}: {spec!r} is not a contrast name; named contrasts: "
                f"{', '.join(contrasts_config) or 'none'}"
            )
        if spec in stack:
            raise ConfigError(f"{where}: contrast {spec!r} refers to itself ({' -> '.join(stack)})")
        return _resolve(
            design, samples, contrasts_config[spec], f"contrasts.{spec}", contrasts_config,
            (*stack, spec),
        )  # fmt: skip
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: expected a contrast (mapping or contrast name), got {spec!r}")
    forms = [key for key in ("factor", "difference", "combine", "vector") if key in spec]
    if len(forms) != 1:
        raise ConfigError(
            f"{where}: a contrast has exactly one of 'factor' (simple: factor, numerator, "
            "denominator, optional at), 'difference' (two contrasts: first minus second), "
            "'combine' (list of {contrast, weight}) or 'vector' ({coefficient: weight}); "
            f"found {forms or 'none'}"
        )
    form = forms[0]
    if form == "factor":
        return _resolve_simple(design, samples, spec, where)
    if form == "vector":
        raise ConfigError(f"{where}: an expert 'vector' cannot be nested in another contrast")
    if form == "difference":
        parts = spec["difference"]
        if not isinstance(parts, Sequence) or isinstance(parts, str) or len(parts) != 2:
            raise ConfigError(
                f"{where}.difference: expected two contrasts [first, second] (first minus "
                f"second), got {parts!r}"
            )
        weighted = [(1.0, parts[0]), (-1.0, parts[1])]
    else:
        items = spec["combine"]
        if not isinstance(items, Sequence) or isinstance(items, str) or not items:
            raise ConfigError(f"{where}.combine: expected a list of {{contrast, weight}}")
        weighted = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or "contrast" not in item:
                raise ConfigError(
                    f"{where}.combine[{i}]: expected {{contrast: <name or simple contrast>, "
                    f"weight: <number>}}, got {item!r}"
                )
            weight = _number(item.get("weight", 1), f"{where}.combine[{i}].weight",
                             low=-math.inf, high=math.inf)  # fmt: skip
            weighted.append((weight, item["contrast"]))
    terms: list[_Term] = []
    formulas: list[str] = []
    resolved_parts: list[_Resolved] = []
    for i, (weight, part) in enumerate(weighted):
        sub = _resolve(design, samples, part, f"{where}.{form}[{i}]", contrasts_config, stack)
        resolved_parts.append(sub)
        terms += [_Term(weight * t.weight, t.cell, t.group) for t in sub.terms]
        if form == "difference":
            formulas.append(sub.formula)
        else:
            formulas.append(f"{weight:+g}x{sub.formula}")
    if form == "difference":
        formula = f"{formulas[0]} - {formulas[1]}"
        words = (
            f"log2FC = {formula}; log2FC > 0 means the log2 fold change {formulas[0]} is "
            f"larger than {formulas[1]} (a difference of differences)"
        )
        kind = "difference"
    else:
        formula = " ".join(formulas)
        words = (
            f"log2FC = {formula}; log2FC > 0 means the positively weighted log2 fold changes "
            "exceed the negatively weighted ones"
        )
        kind = "combination"
    return _Resolved(terms=tuple(terms), formula=formula, words=words, kind=kind)


def _expert_vector(design: Design, spec: Mapping[str, Any], where: str) -> np.ndarray:
    raw = spec["vector"]
    vector = np.zeros(len(design.columns))
    if isinstance(raw, Mapping):
        for name, weight in raw.items():
            if name not in design.columns:
                raise ConfigError(
                    f"{where}.vector: {name!r} is not a design coefficient; coefficients: "
                    f"{', '.join(design.columns)}"
                )
            vector[design.columns.index(name)] = _number(
                weight, f"{where}.vector.{name}", low=-math.inf, high=math.inf
            )
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        if len(raw) != len(design.columns):
            raise ConfigError(
                f"{where}.vector: {len(raw)} numbers for {len(design.columns)} coefficients "
                f"({', '.join(design.columns)}); prefer a mapping coefficient: weight"
            )
        for i, weight in enumerate(raw):
            vector[i] = _number(weight, f"{where}.vector[{i}]", low=-math.inf, high=math.inf)
    else:
        raise ConfigError(f"{where}.vector: expected a mapping coefficient: weight, got {raw!r}")
    return vector


def _reparametrization(old: np.ndarray, new: np.ndarray) -> np.ndarray | None:
    """T with ``new @ T == old`` (so beta_new = T @ beta_old), or None if spaces differ."""
    transform, *_ = np.linalg.lstsq(new, old, rcond=None)
    if not np.allclose(new @ transform, old, atol=1e-8):
        return None
    return np.asarray(transform)


def _find_shrinkage(
    formula: Formula,
    samples: pd.DataFrame,
    design: Design,
    vector: np.ndarray,
    continuous: Sequence[str],
) -> tuple[Shrinkage | None, str]:
    """Find reference levels under which ``vector`` is +-1 x one non-intercept coefficient."""
    base = design.rows(samples)
    factors = list(design.levels)
    choices = [design.levels[f] for f in factors]
    total = math.prod(len(c) for c in choices) if choices else 1
    if total > _MAX_RELEVEL_COMBINATIONS:
        return None, f"not searched: {total} reference-level combinations"
    configured = design.reference_levels
    flipped: tuple[Shrinkage, str] | None = None
    for combo in itertools.product(*choices) if choices else [()]:
        refs = dict(zip(factors, combo, strict=True))
        candidate = (
            design if refs == configured else build_design(formula, samples, refs, continuous)
        )
        transform = _reparametrization(base, candidate.rows(samples))
        if transform is None:
            continue
        # c_old . beta_old == c_new . beta_new with beta_new = T beta_old
        new_vector, *_ = np.linalg.lstsq(transform.T, vector, rcond=None)
        nonzero = np.flatnonzero(np.abs(new_vector) > 1e-9)
        if len(nonzero) != 1:
            continue
        k = int(nonzero[0])
        if candidate.columns[k] == "Intercept" or not np.isclose(abs(new_vector[k]), 1.0):
            continue
        sign = 1 if new_vector[k] > 0 else -1
        relevelled = refs != configured
        note = f"apeGLM on coefficient {candidate.columns[k]}"
        if sign < 0:
            note += " (sign flipped)"
        if relevelled:
            changed = ", ".join(f"{f}={v}" for f, v in refs.items() if configured[f] != v)
            note += f" after re-levelling to reference {changed} (coefficients re-expressed)"
        plan = Shrinkage(candidate.columns[k], sign, refs, relevelled)
        if sign > 0:
            return plan, note
        if flipped is None:
            flipped = (plan, note)
    if flipped is not None:
        return flipped
    return None, (
        "not shrunk: this contrast is not a single model coefficient under any choice of "
        "reference levels (log2FoldChange_shrunk is NA)"
    )


def _check_variables(formula: Formula, samples: pd.DataFrame, continuous: Sequence[str]) -> None:
    missing = [v for v in formula.variables if v not in samples.columns]
    if missing:
        raise ConfigError(
            f"deseq2.design: {', '.join(map(repr, missing))} not a column of the sample sheet; "
            f"columns: {', '.join(map(str, samples.columns))}"
        )
    for variable in formula.variables:
        empty = samples.index[samples[variable].isna() | (samples[variable].astype(str) == "")]
        if len(empty):
            raise ConfigError(
                f"sample sheet column {variable!r} (in deseq2.design) is empty for sample(s) "
                f"{', '.join(map(str, empty))}; fill it in or exclude those samples "
                "(deseq2.exclude_samples)"
            )
    for variable in continuous:
        if variable not in formula.variables:
            raise ConfigError(
                f"deseq2.continuous: {variable!r} is not in the design {formula.text!r}"
            )
        numbers = pd.to_numeric(samples[variable], errors="coerce")
        bad = samples.index[numbers.isna()]
        if len(bad):
            raise ConfigError(
                f"sample sheet column {variable!r} (deseq2.continuous) is not a number for "
                f"sample {bad[0]!r}: {samples.loc[bad[0], variable]!r}"
            )


def _check_design(
    design: Design, samples: pd.DataFrame, where: str, warnings: list[str]
) -> pd.DataFrame:
    matrix = design.matrix(samples)
    problems = _confounded_columns(matrix)
    if problems:
        raise ConfigError(
            f"{where}: the design matrix of {design.formula.text!r} is not full rank, so the "
            "model cannot be fitted. Confounded or empty columns: "
            + "; ".join(problems)
            + ". Remove a confounded factor from the design or drop the interaction"
        )
    residual_df = matrix.shape[0] - matrix.shape[1]
    if residual_df <= 0:
        raise ConfigError(
            f"{where}: {matrix.shape[0]} samples for {matrix.shape[1]} coefficients leave "
            f"{residual_df} residual degrees of freedom; dispersions cannot be estimated. "
            "Add replicates or simplify the design"
        )
    factors = list(design.levels)
    if factors:
        sizes = samples.groupby([samples[f].astype(str) for f in factors]).size()
        singles = [
            ", ".join(
                f"{f}={lvl}"
                for f, lvl in zip(factors, key if isinstance(key, tuple) else (key,), strict=True)
            )
            for key, size in sizes.items()
            if size == 1
        ]
        if singles:
            message = (
                f"{where}: only 1 replicate in group(s) {'; '.join(singles)}: their fold "
                "changes rest on a single sample"
            )
            warnings.append(message)
            logger.warning(message)
    if residual_df <= 3:
        message = (
            f"{where}: only {residual_df} residual degrees of freedom; dispersion estimates "
            "are imprecise"
        )
        warnings.append(message)
        logger.warning(message)
    return matrix


def _samples_after(samples: pd.DataFrame, exclude: Sequence[str], where: str) -> pd.DataFrame:
    unknown = [s for s in exclude if s not in samples.index]
    if unknown:
        raise ConfigError(
            f"{where}: sample(s) {', '.join(map(repr, unknown))} are not in the sample sheet; "
            f"samples: {', '.join(map(str, samples.index))}"
        )
    kept = samples.loc[[s for s in samples.index if s not in set(exclude)]]
    if kept.empty:
        raise ConfigError(f"{where}: every sample is excluded")
    return kept


def _reference_levels(
    formula: Formula, samples: pd.DataFrame, settings: Mapping[str, Any], warnings: list[str]
) -> dict[str, str]:
    refs = dict(settings["reference_levels"])
    continuous = settings["continuous"]
    for factor, level in refs.items():
        if factor not in formula.variables:
            # reference levels of factors outside the design are harmless: say so, go on
            logger.info(
                "deseq2.reference_levels.%s: %r is not in the design; ignored", factor, level
            )
            continue
        if factor in continuous:
            raise ConfigError(f"deseq2.reference_levels.{factor}: {factor!r} is continuous")
        present = sorted({str(v) for v in samples[factor]})
        if level not in present:
            raise ConfigError(
                f"deseq2.reference_levels.{factor}: {level!r} is not a level of {factor!r} in "
                f"the samples; levels: {', '.join(present)}"
            )
    for factor in formula.variables:
        if factor in continuous or factor in refs:
            continue
        first = sorted(set(samples[factor].astype(str)))[0]
        message = (
            f"deseq2.reference_levels: none given for {factor!r}; using {first!r} "
            "(alphabetically first, as R does)"
        )
        warnings.append(message)
        logger.warning(message)
        refs[factor] = first
    return {f: refs[f] for f in formula.variables if f in refs and f not in continuous}


@dataclass(frozen=True)
class PreflightReport:
    """Outcome of :func:`preflight`: the main design and every resolved contrast.

    Attributes
    ----------
    settings : the ``deseq2:`` section with defaults filled in.
    design : the main design (on ``samples``).
    samples : samples of the main fit (after ``deseq2.exclude_samples``).
    design_matrix : samples x coefficients.
    contrasts : name -> resolved contrast.
    warnings : warnings raised by the checks.
    """

    settings: Mapping[str, Any]
    design: Design
    samples: tuple[str, ...]
    design_matrix: pd.DataFrame
    contrasts: Mapping[str, Contrast]
    warnings: tuple[str, ...]

    def contrasts_table(self) -> pd.DataFrame:
        """One row per contrast (index ``contrast``): description, coefficients, vector, ..."""
        rows = []
        for contrast in self.contrasts.values():
            t = contrast.thresholds
            rows.append(
                {
                    "contrast": contrast.name,
                    "test": contrast.test,
                    "reduced": contrast.reduced.formula.text if contrast.reduced else "",
                    "kind": contrast.kind,
                    "description": contrast.description,
                    "formula": contrast.formula,
                    "coefficients": ";".join(
                        n for w, n in zip(contrast.vector, contrast.columns, strict=True) if w
                    ),
                    "vector": contrast.vector_text,
                    "groups": ";".join(g.words for g in contrast.groups),
                    "n_samples": len(contrast.samples),
                    "excluded_samples": ";".join(contrast.exclude),
                    "own_fit": contrast.own_fit,
                    "alpha": t.alpha,
                    "significance": t.describe(),
                    "lfc_null": t.lfc_null,
                    "alt_hypothesis": t.alt_hypothesis or "",
                    "shrinkage": contrast.shrink_note,
                }
            )
        return pd.DataFrame(rows).set_index("contrast")

    def lines(self) -> list[str]:
        """Human-readable lines: the design and each contrast in plain words."""
        out = [
            f"design {self.design.formula.text} on {len(self.samples)} samples; coefficients: "
            + ", ".join(self.design.columns),
            "reference levels: "
            + (", ".join(f"{f}={v}" for f, v in self.design.reference_levels.items()) or "none"),
        ]
        for c in self.contrasts.values():
            out.append(f"contrast {c.name}: {c.description}")
            out.append(f"  vector: {c.vector_text}")
            out.append(f"  significant: {c.thresholds.describe()}; alpha {c.thresholds.alpha:g}")
            out.append(f"  shrinkage: {c.shrink_note}")
            if c.own_fit:
                out.append(f"  fitted on its own without {', '.join(c.exclude)}")
        return out


def resolve_contrasts(
    samples: pd.DataFrame,
    settings: Mapping[str, Any],
    contrasts_config: Mapping[str, Any],
    *,
    names: Iterable[str] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Contrast]:
    """Resolve named contrasts (all, or ``names``) against the design on their samples.

    ``settings`` is the output of :func:`deseq2_settings`; ``samples`` the full sample sheet.
    """
    warnings = [] if warnings is None else warnings
    formula = parse_formula(settings["design"])
    continuous = settings["continuous"]
    main_samples = _samples_after(samples, settings["exclude_samples"], "deseq2.exclude_samples")
    defaults = settings["thresholds"]
    out: dict[str, Contrast] = {}
    for name in names if names is not None else contrasts_config:
        if not CONTRAST_NAME.match(str(name)):
            raise ConfigError(
                f"contrasts: {name!r} is not a valid contrast name (letters, digits and '_')"
            )
        if name not in contrasts_config:
            raise ConfigError(f"contrasts: no contrast named {name!r}")
        spec = contrasts_config[name]
        where = f"contrasts.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {spec!r}")
        exclude = tuple(str(s) for s in spec.get("exclude") or [])
        used = (
            _samples_after(main_samples, exclude, f"{where}.exclude") if exclude else main_samples
        )
        refs = _reference_levels(formula, used, settings, warnings)
        design = build_design(formula, used, refs, continuous)
        if exclude:
            _check_design(design, used, f"{where} (without {', '.join(exclude)})", warnings)
        test = str(spec.get("test", "Wald"))
        if test not in ("Wald", "LRT"):
            raise ConfigError(f"{where}.test: {test!r} is not 'Wald' or 'LRT'")
        reduced: Design | None = None
        cells: tuple[tuple[float, Cell], ...] = ()
        if test == "LRT":
            reduced = _reduced_design(design, used, spec, where, refs, continuous)
            vector = np.zeros(len(design.columns))
            vector[-1] = 1.0
            formula_text, kind = f"LRT {formula.text} vs {reduced.formula.text}", "lrt"
            dropped = [c for c in design.columns if c not in reduced.columns]
            words = (
                f"likelihood-ratio test of {formula.text} against {reduced.formula.text} "
                f"({len(dropped)} df: {', '.join(dropped)}); padj < cutoff means some of these "
                f"coefficients are not 0, with no direction; log2FC is the last coefficient "
                f"({design.columns[-1]}), as R reports it"
            )
        elif "reduced" in spec:
            raise ConfigError(f"{where}.reduced: only a contrast with test: LRT has one")
        elif "vector" in spec:
            if any(k in spec for k in ("factor", "difference", "combine")):
                raise ConfigError(f"{where}: 'vector' cannot be combined with other forms")
            vector = _expert_vector(design, spec, where)
            formula_text = "expert vector"
            kind = "vector"
            weights = "; ".join(
                f"{w:+g} {c}" for w, c in zip(vector, design.columns, strict=True) if w
            )
            words = (
                f"log2FC = {weights}"
                " (expert vector over model coefficients); log2FC > 0 means this combination "
                "of coefficients is positive"
            )
        else:
            resolved = _resolve(design, used, spec, where, contrasts_config, (name,))
            vector = np.zeros(len(design.columns))
            merged: dict[Cell, float] = {}
            for term in resolved.terms:
                vector += term.weight * design.cell_row(term.cell)
                merged[term.group] = merged.get(term.group, 0.0) + term.weight
            vector[np.abs(vector) < 1e-12] = 0.0
            cells = tuple((w, g) for g, w in merged.items())
            formula_text, kind, words = resolved.formula, resolved.kind, resolved.words
        if not np.any(vector):
            raise ConfigError(
                f"{where}: the contrast vector is 0 for every coefficient of {formula.text!r}; "
                "it compares a group with itself"
            )
        if spec.get("description"):
            words = f"{spec['description']} ({words})"
        thresholds = _thresholds(defaults, spec, where)
        want_shrink = spec.get("shrink", settings.get("shrink", True))
        if test == "LRT":
            shrinkage, note = None, "not shrunk: a likelihood-ratio test"
        elif not want_shrink:
            shrinkage, note = None, "not shrunk: shrink is false in the config"
        else:
            shrinkage, note = _find_shrinkage(formula, used, design, vector, continuous)
        out[name] = Contrast(
            name=name,
            kind=kind,
            description=words,
            formula=formula_text,
            vector=tuple(float(v) for v in vector),
            columns=design.columns,
            cells=cells,
            samples=tuple(map(str, used.index)),
            exclude=exclude,
            thresholds=thresholds,
            shrinkage=shrinkage,
            shrink_note=note,
            design=design,
            test=test,
            reduced=reduced,
        )
    return out


def _reduced_design(
    design: Design,
    samples: pd.DataFrame,
    spec: Mapping[str, Any],
    where: str,
    refs: Mapping[str, str],
    continuous: Sequence[str],
) -> Design:
    """The reduced design of an LRT entry, checked to be nested in ``design`` and smaller."""
    forms = [key for key in ("factor", "difference", "combine", "vector") if key in spec]
    if forms:
        raise ConfigError(
            f"{where}: a test: LRT contrast has a 'reduced' formula instead of {forms[0]!r} "
            "(it tests every coefficient the reduced design drops)"
        )
    if not isinstance(spec.get("reduced"), str):
        raise ConfigError(
            f"{where}.reduced: test: LRT needs a reduced design formula, e.g. reduced: "
            f'"~ 1" or a design without the terms to test; got {spec.get("reduced")!r}'
        )
    reduced_formula = parse_formula(spec["reduced"], key=f"{where}.reduced")
    for variable in reduced_formula.variables:
        if variable not in design.formula.variables:
            raise ConfigError(
                f"{where}.reduced: {variable!r} is not in the design {design.formula.text!r}; "
                "the reduced design must be nested in the full one"
            )
    reduced = build_design(reduced_formula, samples, refs, continuous)
    extra = [c for c in reduced.columns if c not in design.columns]
    if extra or len(reduced.columns) >= len(design.columns):
        raise ConfigError(
            f"{where}.reduced: {reduced_formula.text!r} is not nested in and smaller than "
            f"{design.formula.text!r} (its coefficients {list(reduced.columns)} vs "
            f"{list(design.columns)}); drop the terms to test from the design"
        )
    return reduced


def preflight(
    samples: pd.DataFrame,
    deseq2_config: Mapping[str, Any] | None,
    contrasts_config: Mapping[str, Any] | None,
) -> PreflightReport:
    """Check the design and every contrast against the sample sheet, cheaply, before any job.

    Parameters
    ----------
    samples : sample sheet, samples x columns (index: sample name).
    deseq2_config : the ``deseq2:`` config section (defaults filled in here).
    contrasts_config : the ``contrasts:`` config section (name -> spec).

    Returns
    -------
    PreflightReport
        The design, the resolved contrasts (plain words, coefficients, vectors) and warnings;
        its :meth:`~PreflightReport.lines` are also logged at INFO level.

    Raises
    ------
    ConfigError
        Unknown columns or levels, a design that is not full rank (naming the confounded
        columns), zero residual degrees of freedom, malformed contrasts or thresholds.
    """
    settings = deseq2_settings(deseq2_config)
    if settings["inference"] not in {"batched", "default"}:
        raise ConfigError(
            f"deseq2.inference: {settings['inference']!r} is not 'batched' or 'default'"
        )
    formula = parse_formula(settings["design"])
    warnings: list[str] = []
    main_samples = _samples_after(samples, settings["exclude_samples"], "deseq2.exclude_samples")
    _check_variables(formula, main_samples, settings["continuous"])
    refs = _reference_levels(formula, main_samples, settings, warnings)
    design = build_design(formula, main_samples, refs, settings["continuous"])
    matrix = _check_design(design, main_samples, "deseq2.design", warnings)
    contrasts = resolve_contrasts(samples, settings, contrasts_config or {}, warnings=warnings)
    for contrast in contrasts.values():
        t = contrast.thresholds
        if t.padj is not None and t.pvalue is None and t.padj != t.alpha:
            logger.info(
                "contrasts.%s: padj cutoff %g differs from alpha %g (independent filtering "
                "maximizes discoveries at alpha); set alpha: %g to optimize for your cutoff",
                contrast.name, t.padj, t.alpha, t.padj,
            )  # fmt: skip
    report = PreflightReport(
        settings=settings,
        design=design,
        samples=tuple(map(str, main_samples.index)),
        design_matrix=matrix,
        contrasts=contrasts,
        warnings=tuple(dict.fromkeys(warnings)),
    )
    for line in report.lines():
        logger.info("%s", line)
    return report
