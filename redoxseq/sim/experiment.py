"""Deterministic simulator for the bundled sample experiment.

Makes a small mouse-like genome, an Ensembl-style GTF, twelve paired-end, reverse-stranded
(dUTP) BAM files for a 2 x 2 design (cell_line {sensitive, resistant} x treatment {vehicle,
sorafenib}, three replicates; ``--replicates N`` makes 4 N samples, ``--genes N`` N background
genes) and the true log2 fold changes that produced them. The same seed
gives the same bytes in every file, so the committed experiment in
``resources/sample_experiment/`` can be checked by regenerating it::

    python -m redoxseq.simulate --seed 20261121 --outdir resources/sample_experiment

Gene symbols and Ensembl gene IDs are real mouse genes, read from a committed catalogue
(``resources/sample_experiment/source/gene_catalogue.tsv``), which
:func:`build_gene_catalogue` derived from the MSigDB 2023.1 mouse ID map and mouse hallmarks.
Everything else (sequence, gene structures, expression, reads) is simulated.

Model (per gene g and sample j)
-------------------------------
``log2 mu_gj = log2 q_g + cl_g [resistant] + s_g [sorafenib] + (f_g - 1) s_g [resistant and
sorafenib] + log2 L_j``, where ``q_g`` is the expected number of mRNA fragments in sensitive,
vehicle-treated cells at library factor 1, ``cl_g`` the resistant-vs-sensitive effect,
``s_g`` the sorafenib effect in sensitive cells and ``f_g`` the fraction of it left in
resistant cells. Fragment counts are negative binomial with mean ``mu_gj`` and dispersion
``alpha_g = (a0 + a1 / q_g) * exp(sd * z_g)``.

This module imports pysam lazily (only when BAM or FASTA files are written).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
import math
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from redoxseq.errors import InputError
from redoxseq.io import atomic_open, atomic_path, write_tsv

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20261121
CELL_LINES: tuple[str, str] = ("sensitive", "resistant")
TREATMENTS: tuple[str, str] = ("vehicle", "sorafenib")
N_REPLICATES = 3
CONTRASTS: tuple[str, ...] = (
    "resistant_vs_sensitive",
    "sorafenib_vs_vehicle_in_sensitive",
    "sorafenib_vs_vehicle_in_resistant",
    "sorafenib_response_resistant_vs_sensitive",
)
LFC_COLUMNS: tuple[str, ...] = tuple(f"lfc_{name}" for name in CONTRASTS)
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTDIR = REPO_ROOT / "resources" / "sample_experiment"
DEFAULT_CATALOGUE = DEFAULT_OUTDIR / "source" / "gene_catalogue.tsv"
BAM_PATH_IN_UNITS = "resources/sample_experiment/bams/{sample}.bam"

# Curated genes of interest, by simulated category. Order matters (tiny runs take the first).
CURATED: dict[str, tuple[str, ...]] = {
    "nrf2_target": (
        "Nqo1",
        "Hmox1",
        "Gclc",
        "Gclm",
        "Txnrd1",
        "Srxn1",
        "Gsr",
        "Fth1",
        "Ftl1",
        "Txn1",
        "G6pdx",
        "Pgd",
        "Me1",
        "Taldo1",
        "Tkt",
        "Idh1",
        "Slc3a2",
        "Gsta1",
        "Gsta2",
        "Gsta4",
        "Gstm1",
        "Gstp1",
        "Prdx1",
        "Prdx6",
        "Abcc1",
        "Abcc2",
        "Abcc3",
        "Abcc4",
        "Akr1b8",
        "Cbr1",
        "Cbr3",
        "Ephx1",
        "Ugt1a6a",
        "Blvrb",
        "Osgin1",
        "Sqstm1",
        "Cat",
        "Mgst1",
        "Phgdh",
        "Psat1",
        "Shmt2",
        "Mafg",
        "Gpx2",
        "Gpx4",
    ),
    "nrf2_regulator": ("Nfe2l2", "Keap1"),
    "sorafenib_stress": ("Chac1", "Atf3", "Slc7a11", "Ddit3", "Trib3", "Asns", "Sesn2"),
    "ferroptosis": ("Ptgs2", "Acsl4", "Lpcat3", "Alox15", "Ncoa4", "Tfrc"),
    "ferroptosis_regulator": ("Aifm2", "Gch1", "Dhodh", "Trp53"),
    "apoptosis": ("Bax", "Casp3", "Casp8", "Casp9", "Bbc3", "Pmaip1", "Bak1", "Apaf1", "Bcl2"),
    "necroptosis": ("Ripk1", "Ripk3", "Mlkl", "Zbp1"),
    "pyroptosis": ("Gsdmd", "Casp1", "Nlrp3", "Il1b", "Pycard", "Gsdme"),
    "autophagy": ("Atg5", "Atg7", "Becn1", "Map1lc3b", "Ulk1", "Atg12"),
}
# Genes whose sorafenib effect is negative (the rest of the responding panels go up).
_DOWN_WITH_SORAFENIB = frozenset({"Bcl2"})

_COMPLEMENT = bytes.maketrans(b"ACGTN", b"TGCAN")


@dataclass(frozen=True)
class SimulationParams:
    """Every number that shapes the simulated experiment (see the module docstring).

    Expression levels ``median_*`` are expected mRNA fragments per gene in sensitive,
    vehicle-treated cells at library factor 1. Effects are log2 fold changes.
    """

    contigs: tuple[str, ...] = ("1", "2", "3", "4", "5", "X")
    n_background: int = 850
    n_lncrna: int = 40
    n_antisense: int = 24
    n_pseudogenes: int = 16
    n_cell_line: int = 150
    n_sorafenib_response: int = 80
    n_sorafenib_common: int = 25
    n_changed_noncoding: int = 8
    n_segmental_duplications: int = 4
    n_same_strand_overlaps: int = 10
    curated_per_category: int | None = None
    #: Replicates per cell_line x treatment group (4 groups: 12, 48, 96, 400 samples at
    #: 3, 12, 24, 100); the bundled experiment has 3.
    replicates: int = N_REPLICATES
    read_length: int = 50
    fragment_mean: float = 190.0
    fragment_sd: float = 30.0
    gc_content: float = 0.42
    median_background: float = 5.0
    sdlog_background: float = 1.2
    fraction_not_expressed: float = 0.05
    median_noncoding: float = 3.0
    median_nrf2: float = 25.0
    median_changed: float = 20.0
    median_sorafenib: float = 55.0
    sdlog_changed: float = 0.5
    min_changed_ratio: float = 0.6
    pseudogene_parent_median: float = 40.0
    dispersion_asymptote: float = 0.01
    dispersion_extra_poisson: float = 0.5
    dispersion_sdlog: float = 0.25
    library_factor_min: float = 0.6
    library_factor_max: float = 1.6
    intronic_fraction: float = 0.02
    intergenic_fraction: float = 0.01
    duplicate_fraction: float = 0.03
    unmapped_pair_fraction: float = 0.01
    singleton_fraction: float = 0.01
    nrf2_lfc: tuple[float, float] = (1.7, 2.6)
    cell_line_lfc: tuple[float, float] = (1.3, 2.5)
    cell_line_small_lfc: tuple[float, float] = (0.5, 0.9)
    cell_line_small_fraction: float = 0.15
    sorafenib_lfc: tuple[float, float] = (2.0, 2.8)
    sorafenib_small_lfc: tuple[float, float] = (0.6, 1.2)
    sorafenib_small_fraction: float = 0.4
    sorafenib_up_fraction: float = 0.75
    sorafenib_common_lfc: tuple[float, float] = (1.2, 2.2)
    resistant_response_fraction: tuple[float, float] = (0.2, 0.3)
    panel_cell_line_lfc: tuple[float, float] = (1.2, 2.0)

    @classmethod
    def tiny(cls) -> SimulationParams:
        """A small experiment (a few dozen genes, a few hundred reads per sample) for tests."""
        return cls(
            contigs=("1", "X"),
            n_background=24,
            n_lncrna=3,
            n_antisense=2,
            n_pseudogenes=2,
            n_cell_line=4,
            n_sorafenib_response=4,
            n_sorafenib_common=2,
            n_changed_noncoding=1,
            n_segmental_duplications=1,
            n_same_strand_overlaps=2,
            curated_per_category=2,
            median_background=4.0,
            median_nrf2=10.0,
            median_changed=10.0,
            median_sorafenib=10.0,
            pseudogene_parent_median=40.0,
            intronic_fraction=0.05,
            intergenic_fraction=0.03,
            duplicate_fraction=0.05,
            unmapped_pair_fraction=0.03,
            singleton_fraction=0.03,
        )


# --------------------------------------------------------------------------------------------
# Gene catalogue (real mouse symbols and Ensembl gene IDs)
# --------------------------------------------------------------------------------------------


def _read_id_map(id_map: Path) -> dict[str, str]:
    """Symbol -> mouse Ensembl gene ID (ENSMUSG), one ID per symbol and one symbol per ID."""
    table = pd.read_csv(id_map, sep="\t", dtype=str)
    needed = {"mouse_gene_symbol", "mouse_ensembl_gene"}
    if not needed <= set(table.columns):
        raise InputError(
            f"{id_map}: expected columns {sorted(needed)}, found {list(table.columns)}; "
            "use the MSigDB mouse gene ID map (msigdb_2023.1.Mm_mouse_gene_id_map.tsv)"
        )
    table = table.dropna(subset=["mouse_gene_symbol", "mouse_ensembl_gene"])
    table = table[table["mouse_ensembl_gene"].str.startswith("ENSMUSG")]
    table = table.sort_values(["mouse_gene_symbol", "mouse_ensembl_gene"])
    table = table.drop_duplicates("mouse_gene_symbol", keep="first")
    table = table.drop_duplicates("mouse_ensembl_gene", keep=False)
    return dict(zip(table["mouse_gene_symbol"], table["mouse_ensembl_gene"], strict=True))


def build_gene_catalogue(
    id_map: Path,
    gmt: Path,
    *,
    seed: int = DEFAULT_SEED,
    n_background: int = 1100,
    n_lncrna: int = 80,
    n_antisense: int = 40,
    n_pseudogenes: int = 30,
) -> pd.DataFrame:
    """Pick the real mouse genes that the simulated experiment uses.

    Parameters
    ----------
    id_map
        MSigDB mouse gene ID map (columns ``mouse_gene_symbol``, ``mouse_ensembl_gene``).
    gmt
        Mouse gene sets (GMT); background protein-coding genes are drawn from their members
        so that real gene sets overlap the data.
    seed
        Seed of the draw.
    n_background, n_lncrna, n_antisense, n_pseudogenes
        Pool sizes; the simulator uses the first genes of each pool (catalogue order).

    Returns
    -------
    pandas.DataFrame
        One row per gene: ``gene_id, gene_name, gene_biotype, pool, parent_name``.
        ``pool`` is the curated category or ``background``/``lncrna``/``antisense``/
        ``pseudogene``; ``parent_name`` is the sense gene of an antisense gene or the parent of
        a processed pseudogene (empty otherwise).
    """
    ids = _read_id_map(id_map)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    used: set[str] = set()
    for category, symbols in CURATED.items():
        for symbol in symbols:
            if symbol not in ids:
                raise InputError(f"{id_map}: curated gene {symbol!r} has no unique ENSMUSG ID")
            rows.append(_catalogue_row(ids, symbol, "protein_coding", category, ""))
            used.add(symbol)
    gmt_genes: set[str] = set()
    with open(gmt, encoding="utf-8") as handle:
        for line in handle:
            gmt_genes.update(line.rstrip("\n").split("\t")[2:])
    pool = sorted(symbol for symbol in gmt_genes if symbol in ids and symbol not in used)
    pseudo_re = re.compile(r"^(?P<parent>[A-Z][A-Za-z0-9]+)-ps\d*$")
    pseudos = sorted(
        (s, m["parent"])
        for s in ids
        if (m := pseudo_re.match(s)) and m["parent"] in pool and m["parent"] not in used
    )
    by_parent: dict[str, str] = {}
    for symbol, parent in pseudos:
        by_parent.setdefault(parent, symbol)
    parents = sorted(by_parent)
    chosen_parents = [parents[i] for i in sorted(rng.choice(len(parents), n_pseudogenes, False))]
    antisense_re = re.compile(r"^(?P<parent>[A-Z][A-Za-z0-9]+?)os\d*$")
    antis = sorted(
        (s, m["parent"])
        for s in ids
        if (m := antisense_re.match(s)) and m["parent"] in ids and m["parent"] not in used
    )
    antis = [(s, p) for s, p in antis if p not in chosen_parents]
    chosen_anti = [antis[i] for i in sorted(rng.choice(len(antis), n_antisense, False))]
    lnc_pool = sorted(s for s in ids if re.fullmatch(r"Gm\d+", s))
    chosen_lnc = [lnc_pool[i] for i in sorted(rng.choice(len(lnc_pool), n_lncrna, False))]
    fixed = set(chosen_parents) | {p for _, p in chosen_anti}
    rest = [s for s in pool if s not in fixed]
    n_rest = max(n_background - len(fixed), 0)
    chosen_bg = [rest[i] for i in sorted(rng.choice(len(rest), n_rest, False))]
    background = sorted(set(chosen_bg) | fixed)
    order = rng.permutation(len(background))
    for i in order:
        rows.append(_catalogue_row(ids, background[i], "protein_coding", "background", ""))
    for parent in chosen_parents:
        rows.append(
            _catalogue_row(ids, by_parent[parent], "processed_pseudogene", "pseudogene", parent)
        )
    for symbol, parent in chosen_anti:
        rows.append(_catalogue_row(ids, symbol, "antisense", "antisense", parent))
    for symbol in chosen_lnc:
        rows.append(_catalogue_row(ids, symbol, "lncRNA", "lncrna", ""))
    return pd.DataFrame(rows)


def _catalogue_row(
    ids: dict[str, str], symbol: str, biotype: str, pool: str, parent: str
) -> dict[str, str]:
    return {
        "gene_id": ids[symbol],
        "gene_name": symbol,
        "gene_biotype": biotype,
        "pool": pool,
        "parent_name": parent,
    }


def read_gene_catalogue(path: Path) -> pd.DataFrame:
    """Read the gene catalogue written by :func:`build_gene_catalogue`."""
    if not path.exists():
        raise InputError(
            f"{path}: gene catalogue not found; it ships in resources/sample_experiment/source/ "
            "or can be rebuilt with `python -m redoxseq.simulate --make-catalogue`"
        )
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    needed = ["gene_id", "gene_name", "gene_biotype", "pool", "parent_name"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; expected {needed}")
    return table


# --------------------------------------------------------------------------------------------
# Genes: categories, effects, expression, structures
# --------------------------------------------------------------------------------------------


@dataclass
class _Transcript:
    transcript_id: str
    name: str
    exons: list[tuple[int, int]]  # relative to gene start until placed, ascending, half-open
    weight: float
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cum: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def length(self) -> int:
        return sum(e - s for s, e in self.exons)

    def finalise(self) -> None:
        self.starts = np.array([s for s, _ in self.exons], dtype=np.int64)
        self.ends = np.array([e for _, e in self.exons], dtype=np.int64)
        self.cum = np.concatenate([[0], np.cumsum(self.ends - self.starts)])


@dataclass
class _Gene:
    index: int
    gene_id: str
    name: str
    biotype: str
    category: str
    parent_name: str
    strand: str = "+"
    cl: float = 0.0
    s: float = 0.0
    f: float = 1.0
    q: float = 0.0
    alpha: float = 0.1
    contig: int = -1
    start: int = 0
    end: int = 0
    transcripts: list[_Transcript] = field(default_factory=list)
    # tx-coordinate ranges of the (single) transcript copied to processed pseudogenes:
    # (copy start in tx coords, copy end, contig, genomic start, strand of the copy)
    copies: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    # segmental duplication: (source start, source end, contig, destination start)
    segdups: list[tuple[int, int, int, int]] = field(default_factory=list)
    segdup_rel: tuple[int, int] | None = None
    no_partner: bool = False

    @property
    def span(self) -> int:
        return max(e for t in self.transcripts for _, e in t.exons)


def _select_genes(
    catalogue: pd.DataFrame, params: SimulationParams, rng: np.random.Generator
) -> list[_Gene]:
    """Take genes from the catalogue and give each a category."""
    genes: list[_Gene] = []

    def add(row: pd.Series, category: str) -> None:
        genes.append(
            _Gene(
                index=len(genes),
                gene_id=str(row["gene_id"]),
                name=str(row["gene_name"]),
                biotype=str(row["gene_biotype"]),
                category=category,
                parent_name=str(row["parent_name"]),
            )
        )

    for category in CURATED:
        rows = catalogue[catalogue["pool"] == category]
        if params.curated_per_category is not None:
            rows = rows.head(params.curated_per_category)
        for _, row in rows.iterrows():
            add(row, category)
    pseudo = catalogue[catalogue["pool"] == "pseudogene"].head(params.n_pseudogenes)
    anti = catalogue[catalogue["pool"] == "antisense"].head(params.n_antisense)
    lnc = catalogue[catalogue["pool"] == "lncrna"].head(params.n_lncrna)
    fixed = set(pseudo["parent_name"]) | set(anti["parent_name"])
    background = catalogue[catalogue["pool"] == "background"]
    bg_fixed = background[background["gene_name"].isin(fixed)]
    bg_rest = background[~background["gene_name"].isin(fixed)]
    n_rest = params.n_background - len(bg_fixed)
    if n_rest < 0 or n_rest > len(bg_rest):
        raise InputError(
            f"gene catalogue: cannot take n_background={params.n_background} background genes "
            f"({len(bg_fixed)} are pseudogene/antisense parents, {len(bg_rest)} others available)"
        )
    background = pd.concat([bg_fixed, bg_rest.head(n_rest)])
    background = background.sort_values("gene_id", kind="stable")
    pseudo_parents = set(pseudo["parent_name"])
    # changed background genes: never pseudogene parents (their reads partly multimap)
    eligible = [i for i, name in enumerate(background["gene_name"]) if name not in pseudo_parents]
    n_changed = params.n_cell_line + params.n_sorafenib_response + params.n_sorafenib_common
    if n_changed > len(eligible):
        raise InputError(f"gene catalogue: {n_changed} changed genes requested, too few genes")
    picked = rng.choice(np.array(eligible), n_changed, replace=False)
    labels = ["cell_line"] * params.n_cell_line
    labels += ["sorafenib_response"] * params.n_sorafenib_response
    labels += ["sorafenib_common"] * params.n_sorafenib_common
    category_of = {int(i): lab for i, lab in zip(picked, labels, strict=True)}
    for i, (_, row) in enumerate(background.iterrows()):
        category = category_of.get(i, "unchanged")
        if row["gene_name"] in pseudo_parents:
            category = "pseudogene_parent"
        add(row, category)
    noncoding = pd.concat([anti, lnc])
    changed_nc = set(
        rng.choice(len(noncoding), min(params.n_changed_noncoding, len(noncoding)), False)
    )
    for i, (_, row) in enumerate(noncoding.iterrows()):
        add(row, "cell_line" if i in changed_nc else "unchanged")
    for _, row in pseudo.iterrows():
        add(row, "pseudogene")
    return genes


def _u(rng: np.random.Generator, bounds: tuple[float, float], digits: int = 3) -> float:
    return round(float(rng.uniform(bounds[0], bounds[1])), digits)


def _assign_effects(genes: list[_Gene], params: SimulationParams, rng: np.random.Generator) -> None:
    """Draw cl (resistant vs sensitive), s (sorafenib in sensitive) and f per gene."""
    blunt = params.resistant_response_fraction
    for g in genes:
        c = g.category
        if c == "nrf2_target":
            g.cl = _u(rng, params.nrf2_lfc)
        elif c == "cell_line":
            bounds = (
                params.cell_line_small_lfc
                if rng.random() < params.cell_line_small_fraction
                else params.cell_line_lfc
            )
            g.cl = _u(rng, bounds) * (1 if rng.random() < 0.5 else -1)
        elif c in ("sorafenib_stress", "ferroptosis", "apoptosis"):
            sign = -1 if g.name in _DOWN_WITH_SORAFENIB else 1
            g.s = sign * _u(rng, params.sorafenib_lfc)
            g.f = _u(rng, blunt, 2)
        elif c == "sorafenib_response":
            bounds = (
                params.sorafenib_small_lfc
                if rng.random() < params.sorafenib_small_fraction
                else params.sorafenib_lfc
            )
            g.s = _u(rng, bounds) * (1 if rng.random() < params.sorafenib_up_fraction else -1)
            g.f = _u(rng, blunt, 2)
        elif c == "sorafenib_common" or c == "necroptosis":
            sign = 1 if (c == "necroptosis" or rng.random() < 0.5) else -1
            g.s = sign * _u(rng, params.sorafenib_common_lfc)
        elif c in ("pyroptosis", "autophagy"):
            g.cl = _u(rng, params.panel_cell_line_lfc)


def _assign_expression(
    genes: list[_Gene], params: SimulationParams, rng: np.random.Generator
) -> None:
    """Baseline fragments q (sensitive, vehicle, library factor 1) and dispersion per gene."""
    for g in genes:
        c = g.category
        z = float(rng.standard_normal())
        if c == "pseudogene":
            q = 0.0
        elif c == "pseudogene_parent":
            q = params.pseudogene_parent_median * math.exp(0.4 * z)
        elif c in ("unchanged", "nrf2_regulator", "ferroptosis_regulator") and g.biotype in (
            "lncRNA",
            "antisense",
        ):
            q = params.median_noncoding * math.exp(params.sdlog_background * z)
        elif c == "unchanged":
            if rng.random() < params.fraction_not_expressed:
                q = 0.0
            else:
                q = params.median_background * math.exp(params.sdlog_background * z)
        else:
            # changed genes: draw the mean of their lowest group, so that every changed gene
            # has a comparable chance of detection whichever way it changes
            if c == "nrf2_target":
                median = params.median_nrf2
            elif c in (
                "sorafenib_stress",
                "ferroptosis",
                "apoptosis",
                "sorafenib_response",
                "sorafenib_common",
                "necroptosis",
            ):
                median = params.median_sorafenib
            else:
                median = params.median_changed
            low = max(
                median * math.exp(params.sdlog_changed * z), params.min_changed_ratio * median
            )
            lowest = min(0.0, g.cl, g.s, g.cl + g.f * g.s)
            q = low * 2.0 ** (-lowest)
        g.q = round(q, 3)
        trend = params.dispersion_asymptote + params.dispersion_extra_poisson / max(g.q, 1.0)
        g.alpha = trend * math.exp(params.dispersion_sdlog * float(rng.standard_normal()))


def _group_log2(g: _Gene, cell_line: str, treatment: str) -> float:
    """log2 of the group mean at library factor 1 (``-inf`` for genes that are not expressed)."""
    if g.q <= 0:
        return -math.inf
    res = cell_line == "resistant"
    sor = treatment == "sorafenib"
    return math.log2(g.q) + g.cl * res + g.s * sor + (g.f - 1.0) * g.s * (res and sor)


def _make_structure(
    rng: np.random.Generator, n_exons: int, max_span: int | None = None
) -> list[tuple[int, int]]:
    """Exon intervals (relative, ascending) for a gene with ``n_exons`` exons."""
    lengths = []
    for k in range(n_exons):
        terminal = k in (0, n_exons - 1)
        lo, hi = (120, 520) if terminal else (60, 260)
        lengths.append(int(rng.integers(lo, hi)))
    if n_exons == 1:
        lengths[0] = int(rng.integers(500, 1500))
    introns = [int(math.exp(rng.uniform(math.log(80), math.log(900)))) for _ in range(n_exons - 1)]
    if max_span is not None:
        total = sum(lengths) + sum(introns)
        if total > max_span:
            factor = max(max_span - sum(lengths), 80 * len(introns)) / max(sum(introns), 1)
            introns = [max(int(i * factor), 70) for i in introns]
    exons = []
    pos = 0
    for k, length in enumerate(lengths):
        exons.append((pos, pos + length))
        pos += length
        if k < len(introns):
            pos += introns[k]
    return exons


def _make_transcripts(g: _Gene, rng: np.random.Generator, single: bool) -> None:
    """Gene structure: one to three isoforms (all exons, exon skipping, alternative TSS)."""
    if g.biotype in ("lncRNA", "antisense"):
        n_exons = int(rng.integers(1, 4))
    else:
        n_exons = 1 if rng.random() < 0.08 else int(rng.integers(2, 9))
    exons = _make_structure(rng, n_exons)
    isoforms = [exons]
    if not single and n_exons >= 3:
        if rng.random() < 0.5:
            skip = int(rng.integers(1, n_exons - 1))
            isoforms.append([e for k, e in enumerate(exons) if k != skip])
        if rng.random() < 0.3 and n_exons >= 4:
            # alternative first exon: drop the first exon on the 5' side of the gene
            isoforms.append(exons[1:] if g.strand == "+" else exons[:-1])
    weights = rng.dirichlet(np.full(len(isoforms), 2.0))
    for k, iso in enumerate(isoforms):
        g.transcripts.append(_Transcript("", f"{g.name}-{201 + k}", list(iso), float(weights[k])))


# --------------------------------------------------------------------------------------------
# Genome layout
# --------------------------------------------------------------------------------------------


@dataclass
class _Layout:
    names: tuple[str, ...]
    lengths: list[int]
    gaps: list[list[tuple[int, int]]]  # intergenic intervals usable for intergenic reads
    seqs: list[bytearray] = field(default_factory=list)


def _shift(exons: list[tuple[int, int]], offset: int) -> list[tuple[int, int]]:
    return [(s + offset, e + offset) for s, e in exons]


def _layout_genes(
    genes: list[_Gene], params: SimulationParams, rng: np.random.Generator
) -> _Layout:
    """Place genes, antisense partners, pseudogene copies and duplicated segments on contigs."""
    by_name = {g.name: g for g in genes}
    partners: dict[str, _Gene] = {}
    for g in genes:
        if g.biotype == "antisense" and g.parent_name in by_name:
            partners[g.parent_name] = g
    pseudos = [g for g in genes if g.category == "pseudogene"]
    pseudo_parents = {g.parent_name for g in pseudos}
    for g in genes:
        if g.category == "pseudogene":
            continue
        g.strand = "+" if rng.random() < 0.5 else "-"
        single = g.name in pseudo_parents or g.biotype != "protein_coding"
        _make_transcripts(g, rng, single)
    # segmental duplications: unchanged, unpartnered protein-coding genes with >= 3 exons
    seg_candidates = [
        g
        for g in genes
        if g.category == "unchanged"
        and g.biotype == "protein_coding"
        and g.name not in partners
        and len(g.transcripts[0].exons) >= 3
        and g.q >= params.median_background
    ]
    seg_genes = seg_candidates[: params.n_segmental_duplications]
    for g in seg_genes:
        exons = g.transcripts[0].exons
        # the 3' half of the gene: last two exons and the intron between them
        if g.strand == "+":
            g.segdup_rel = (max(exons[-2][0] - 40, 0), exons[-1][1])
        else:
            g.segdup_rel = (exons[0][0], exons[1][1] + 40)
    # items to place: genes (antisense genes travel with their parent), pseudogene copies,
    # duplicated-segment copies
    items: list[tuple[str, Any]] = []
    for g in genes:
        if g.category == "pseudogene" or (g.biotype == "antisense" and g.parent_name in by_name):
            continue
        items.append(("gene", g))
    for g in pseudos:
        items.append(("pseudo", g))
    # unannotated extra copies: NH 3 for the first pseudogene parent, NH 5 for the second
    for parent_name, n_extra in zip(sorted({g.parent_name for g in pseudos}), (1, 3), strict=False):
        items += [("extra", by_name[parent_name])] * n_extra
    for g in seg_genes:
        items.append(("segdup", g))
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    # same-strand overlapping pairs: consecutive plain genes get glued
    glue_targets = set()
    n_glue = 0
    for k in range(len(items) - 1):
        a, b = items[k], items[k + 1]
        if n_glue >= params.n_same_strand_overlaps:
            break
        if (
            a[0] == "gene"
            and b[0] == "gene"
            and a[1].name not in partners
            and b[1].name not in partners
            and a[1].segdup_rel is None
            and b[1].segdup_rel is None
            and a[1].name not in pseudo_parents
            and b[1].name not in pseudo_parents
            and k not in glue_targets
        ):
            glue_targets.add(k + 1)
            n_glue += 1
    n_contigs = len(params.contigs)
    per_contig = np.array_split(np.arange(len(items)), n_contigs)
    lengths: list[int] = []
    gaps: list[list[tuple[int, int]]] = []
    pending_pseudo: list[tuple[_Gene, int, int, int, int, str]] = []
    for ci, idx in enumerate(per_contig):
        pos = int(rng.integers(2000, 4000))
        contig_gaps: list[tuple[int, int]] = []
        gap_start = 0
        prev: _Gene | None = None
        for k in idx.tolist():
            kind, g = items[k]
            glued = kind == "gene" and k in glue_targets and prev is not None
            if kind == "gene" and glued:
                assert prev is not None
                # same strand; this gene's first exon overlaps the previous gene's last exon
                g.strand = prev.strand
                last = prev.transcripts[0].exons[-1]
                first = g.transcripts[0].exons[0]
                overlap = int(min(last[1] - last[0], first[1] - first[0]) * rng.uniform(0.3, 0.6))
                _place_gene(g, ci, prev.end - overlap)
                pos, prev = g.end, g
                continue
            gap = int(rng.integers(400, 1600))
            if kind == "gene":
                start = pos + gap + (700 if g.name in partners else 0)
                _place_gene(g, ci, start)
                lo, hi = g.start, g.end
                if g.name in partners:
                    _place_antisense(partners[g.name], g, rng)
                    lo = min(lo, partners[g.name].start)
                    hi = max(hi, partners[g.name].end)
                prev = g
            elif kind in ("pseudo", "extra"):
                parent = by_name[g.parent_name] if kind == "pseudo" else g
                tx_len = parent.transcripts[0].length
                c0 = 0 if rng.random() < 0.5 else int(tx_len * rng.uniform(0.1, 0.3))
                lo = pos + gap
                hi = lo + tx_len - c0
                strand = "+" if rng.random() < 0.5 else "-"
                if kind == "pseudo":
                    g.strand = strand
                    g.contig, g.start, g.end = ci, lo, hi
                    g.transcripts = [_Transcript("", f"{g.name}-201", [(lo, hi)], 1.0)]
                pending_pseudo.append((parent, c0, tx_len, ci, lo, strand))
                prev = None
            else:  # duplicated-segment copy
                assert g.segdup_rel is not None
                lo = pos + gap
                hi = lo + g.segdup_rel[1] - g.segdup_rel[0]
                g.segdups.append((-1, -1, ci, lo))  # source filled in below
                prev = None
            contig_gaps.append((gap_start, lo))
            gap_start = pos = hi
        end = pos + int(rng.integers(2000, 4000))
        contig_gaps.append((gap_start, end))
        lengths.append(end)
        gaps.append([(s + 150, e - 150) for s, e in contig_gaps if e - s > 700])
    # pseudogene copies: link to parent
    for parent, c0, tx_len, ci, lo, strand in pending_pseudo:
        parent.copies.append((c0, tx_len, ci, lo, strand))
    for g in seg_genes:
        assert g.segdup_rel is not None
        src0 = g.start + g.segdup_rel[0]
        src1 = g.start + g.segdup_rel[1]
        g.segdups = [(src0, src1, c, d) for _, _, c, d in g.segdups]
    for g in genes:
        for t in g.transcripts:
            t.finalise()
    return _Layout(params.contigs, lengths, gaps)


def _place_gene(g: _Gene, contig: int, start: int) -> None:
    g.contig = contig
    g.start = start
    for t in g.transcripts:
        t.exons = _shift(t.exons, start)
    g.end = max(e for t in g.transcripts for _, e in t.exons)
    g.start = min(s for t in g.transcripts for s, _ in t.exons)


def _place_antisense(a: _Gene, parent: _Gene, rng: np.random.Generator) -> None:
    """Put antisense gene ``a`` on the other strand, overlapping the 5' end of ``parent``."""
    a.strand = "-" if parent.strand == "+" else "+"
    ext = int(rng.integers(150, 500))
    max_span = ext + max(parent.end - parent.start - 50, 200)
    rel = _make_structure(rng, len(a.transcripts[0].exons), max_span=max_span)
    span = rel[-1][1]
    start = parent.start - ext if parent.strand == "+" else parent.end + ext - span
    a.contig = parent.contig
    a.transcripts = [_Transcript("", f"{a.name}-201", _shift(rel, start), 1.0)]
    a.start, a.end = start, start + span


# --------------------------------------------------------------------------------------------
# Sequence
# --------------------------------------------------------------------------------------------


def _revcomp(seq: bytes) -> bytes:
    return seq.translate(_COMPLEMENT)[::-1]


def _make_sequences(
    layout: _Layout, genes: list[_Gene], params: SimulationParams, rng: np.random.Generator
) -> None:
    """Random sequence, canonical GT..AG splice sites, then exact copies for multimapping."""
    gc = params.gc_content
    alphabet = np.frombuffer(b"ACGT", dtype=np.uint8)
    probs = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    layout.seqs = [
        bytearray(rng.choice(alphabet, size=n, p=probs).tobytes()) for n in layout.lengths
    ]
    for g in genes:
        if g.category == "pseudogene":
            continue
        seq = layout.seqs[g.contig]
        for t in g.transcripts:
            for (_, e1), (s2, _) in zip(t.exons[:-1], t.exons[1:], strict=True):
                if g.strand == "+":
                    seq[e1 : e1 + 2] = b"GT"
                    seq[s2 - 2 : s2] = b"AG"
                else:
                    seq[e1 : e1 + 2] = b"CT"
                    seq[s2 - 2 : s2] = b"AC"
    for g in genes:
        for src0, src1, c, d in g.segdups:
            layout.seqs[c][d : d + src1 - src0] = layout.seqs[g.contig][src0:src1]
        if g.copies:
            mrna = _transcript_sequence(layout, g, g.transcripts[0])
            for c0, c1, c, d, strand in g.copies:
                piece = mrna[c0:c1]
                layout.seqs[c][d : d + c1 - c0] = piece if strand == "+" else _revcomp(piece)


def _transcript_sequence(layout: _Layout, g: _Gene, t: _Transcript) -> bytes:
    seq = layout.seqs[g.contig]
    fwd = b"".join(bytes(seq[s:e]) for s, e in t.exons)
    return fwd if g.strand == "+" else _revcomp(fwd)


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------

# An alignment of one read: (contig, blocks [(start, end), ...] ascending, is_reverse)
_Aln = tuple[int, list[tuple[int, int]], bool]
# A fragment: list of alignments as (read1 alignment, read2 alignment) pairs; category label
_CATEGORY_NAMES = (
    "exonic_unique",
    "exonic_multimapper",
    "intronic",
    "intergenic",
    "singleton",
    "unmapped_pair",
)


def _project(t: _Transcript, contig: int, a: int, b: int, reverse: bool) -> _Aln:
    """Map forward transcript coordinates [a, b) (genomic order) to genomic blocks."""
    k0 = int(np.searchsorted(t.cum, a, side="right")) - 1
    blocks: list[tuple[int, int]] = []
    k = k0
    while a < b:
        exon_len = int(t.cum[k + 1] - t.cum[k])
        off = a - int(t.cum[k])
        take = min(b - a, exon_len - off)
        gs = int(t.starts[k]) + off
        blocks.append((gs, gs + take))
        a += take
        k += 1
    return (contig, blocks, reverse)


def _pair_from_forward(
    t: _Transcript, contig: int, strand: str, u: int, flen: int, rl: int
) -> tuple[_Aln, _Aln]:
    """DUTP read pair for a fragment at forward coordinates [u, u + flen) of ``t``.

    Returns (read1, read2): read 1 is antisense to the RNA, read 2 sense.
    """
    left = _project(t, contig, u, u + rl, False)
    right = _project(t, contig, u + flen - rl, u + flen, True)
    return (right, left) if strand == "+" else (left, right)


@dataclass
class _Fragment:
    alignments: list[tuple[_Aln | None, _Aln | None]]  # per hit: (read1, read2)
    primary: int
    category: str
    duplicate: bool = False


def _hits_for(g: _Gene, pair: tuple[_Aln, _Aln], tx_fwd: tuple[int, int] | None, t_len: int,
              rl: int) -> list[tuple[_Aln, _Aln]]:  # fmt: skip
    """Other loci where this read pair aligns equally well (pseudogene copies, duplications)."""
    hits: list[tuple[_Aln, _Aln]] = []
    r1, r2 = pair
    for src0, src1, c, d in g.segdups:
        if all(src0 <= s and e <= src1 for _, blocks, _ in (r1, r2) for s, e in blocks):
            shift = d - src0
            hits.append(
                (
                    (c, [(s + shift, e + shift) for s, e in r1[1]], r1[2]),
                    (c, [(s + shift, e + shift) for s, e in r2[1]], r2[2]),
                )
            )
    if tx_fwd is not None and g.copies:
        for c0, c1, c, d, cstrand in g.copies:
            new: list[_Aln] = []
            for aln, (fa, fb) in zip((r1, r2), _read_fwd(tx_fwd, rl, pair), strict=True):
                # forward coords -> sense coords
                sa, sb = (fa, fb) if g.strand == "+" else (t_len - fb, t_len - fa)
                if sa < c0 or sb > c1:
                    break
                sense_read = aln[2] == (g.strand == "-")
                if cstrand == "+":
                    ga, gb = d + sa - c0, d + sb - c0
                    rev = not sense_read
                else:
                    ga, gb = d + c1 - sb, d + c1 - sa
                    rev = sense_read
                new.append((c, [(ga, gb)], rev))
            if len(new) == 2:
                hits.append((new[0], new[1]))
    return hits


def _read_fwd(tx_fwd: tuple[int, int], rl: int, pair: tuple[_Aln, _Aln]) -> list[tuple[int, int]]:
    """Forward transcript coordinates of (read1, read2) given the fragment's [u, u + flen)."""
    u, end = tx_fwd
    left, right = (u, u + rl), (end - rl, end)
    r1 = pair[0]
    return [right, left] if r1[2] else [left, right]


def _fragment_lengths(
    rng: np.random.Generator, n: int, params: SimulationParams, max_len: int
) -> np.ndarray:
    rl = params.read_length
    flen = np.rint(rng.normal(params.fragment_mean, params.fragment_sd, n)).astype(np.int64)
    return np.clip(flen, rl + 10, max(max_len, rl))


def _simulate_sample_fragments(
    genes: list[_Gene],
    layout: _Layout,
    counts: np.ndarray,
    params: SimulationParams,
    rng: np.random.Generator,
) -> list[_Fragment]:
    """All fragments of one sample (mRNA fragment counts per gene given in ``counts``)."""
    rl = params.read_length
    frags: list[_Fragment] = []
    for g, n in zip(genes, counts, strict=True):
        if n <= 0:
            continue
        weights = np.array([t.weight for t in g.transcripts])
        per_tx = rng.multinomial(int(n), weights / weights.sum())
        for t, m in zip(g.transcripts, per_tx, strict=True):
            if m == 0:
                continue
            t_len = t.length
            flen = _fragment_lengths(rng, int(m), params, t_len)
            u = (rng.random(int(m)) * (t_len - flen + 1)).astype(np.int64)
            for uu, ff in zip(u.tolist(), flen.tolist(), strict=True):
                pair = _pair_from_forward(t, g.contig, g.strand, uu, ff, rl)
                hits = [pair, *_hits_for(g, pair, (uu, uu + ff), t_len, rl)]
                primary = int(rng.integers(len(hits))) if len(hits) > 1 else 0
                cat = "exonic_multimapper" if len(hits) > 1 else "exonic_unique"
                frags.append(_Fragment(list(hits), primary, cat))
    n_mrna = len(frags)
    # intronic reads: pre-mRNA, proportional to expression, both mates inside one intron
    intron_genes = [
        (g, n, e1, s2)
        for g, n in zip(genes, counts.tolist(), strict=True)
        for (_, e1), (s2, _) in zip(
            g.transcripts[0].exons[:-1], g.transcripts[0].exons[1:], strict=False
        )
        if g.category != "pseudogene" and s2 - e1 >= params.fragment_mean + 3 * params.fragment_sd
    ]
    if intron_genes:
        w = np.array([n * (s2 - e1) for _, n, e1, s2 in intron_genes], float)
        n_intr = round(params.intronic_fraction * n_mrna)
        if w.sum() > 0 and n_intr > 0:
            picks = rng.choice(len(intron_genes), n_intr, p=w / w.sum())
            for p in picks.tolist():
                g, _, e1, s2 = intron_genes[p]
                t = _Transcript("", "", [(e1, s2)], 1.0)
                t.finalise()
                fl = int(_fragment_lengths(rng, 1, params, s2 - e1)[0])
                uu = int(rng.integers(0, s2 - e1 - fl + 1))
                pair = _pair_from_forward(t, g.contig, g.strand, uu, fl, rl)
                hits = [pair, *_hits_for(g, pair, None, 0, rl)]
                primary = int(rng.integers(len(hits))) if len(hits) > 1 else 0
                frags.append(_Fragment(list(hits), primary, "intronic"))
    # intergenic reads: uniform over intergenic space, either strand
    spans = [(c, s, e) for c, gl in enumerate(layout.gaps) for s, e in gl if e - s > 400]
    n_inter = round(params.intergenic_fraction * n_mrna)
    if spans and n_inter > 0:
        w = np.array([e - s for _, s, e in spans], float)
        picks = rng.choice(len(spans), n_inter, p=w / w.sum())
        for p in picks.tolist():
            c, s, e = spans[p]
            fl = int(_fragment_lengths(rng, 1, params, e - s)[0])
            start = int(rng.integers(s, e - fl + 1))
            t = _Transcript("", "", [(start, start + fl)], 1.0)
            t.finalise()
            strand = "+" if rng.random() < 0.5 else "-"
            pair = _pair_from_forward(t, c, strand, 0, fl, rl)
            frags.append(_Fragment([pair], 0, "intergenic"))
    # singletons: one mate of a uniquely mapped exonic fragment failed to align
    unique = [i for i in range(n_mrna) if frags[i].category == "exonic_unique"]
    n_single = round(params.singleton_fraction * n_mrna)
    if unique and n_single > 0:
        for i in rng.choice(np.array(unique), min(n_single, len(unique)), False).tolist():
            r1, r2 = frags[i].alignments[0]
            frags[i] = _Fragment([(None, r2) if rng.random() < 0.5 else (r1, None)], 0, "singleton")
    # PCR duplicates of mapped fragments
    n_dup = round(params.duplicate_fraction * len(frags))
    if n_dup > 0:
        for i in rng.choice(len(frags), n_dup, replace=True).tolist():
            src = frags[i]
            frags.append(_Fragment(src.alignments, src.primary, src.category, duplicate=True))
    # unmapped pairs (adapter dimers, contamination)
    n_unmapped = round(params.unmapped_pair_fraction * n_mrna)
    for _ in range(n_unmapped):
        frags.append(_Fragment([(None, None)], 0, "unmapped_pair"))
    return frags


def _mapq(nh: int) -> int:
    if nh == 1:
        return 255
    if nh == 2:
        return 3
    if nh <= 4:
        return 1
    return 0


def _cigar(blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    cig: list[tuple[int, int]] = []
    for k, (s, e) in enumerate(blocks):
        if k:
            cig.append((3, s - blocks[k - 1][1]))
        cig.append((0, e - s))
    return cig


# A record before conversion: sort key fields and payload
_Rec = tuple[int, int, int, int, int, int, int, int, list[tuple[int, int]], bytes, int, int]


def _records_for_sample(
    frags: list[_Fragment], layout: _Layout, params: SimulationParams, rng: np.random.Generator
) -> tuple[list[_Rec], list[str]]:
    """Turn fragments into BAM record tuples, sorted by coordinate; names follow that order.

    Returns records ``(tid, pos, frag_rank, mate, hi, flag, mapq, nh, cigar, seq, mtid, mpos)``
    with ``tlen`` recomputed at writing time, plus the fragment names by rank.
    """
    rl = params.read_length
    alphabet = np.frombuffer(b"ACGT", dtype=np.uint8)
    big = 1 << 40
    # rank fragments by their primary leftmost position
    keys = []
    for i, fr in enumerate(frags):
        r1, r2 = fr.alignments[fr.primary]
        placed = [(a[0], a[1][0][0]) for a in (r1, r2) if a is not None]
        keys.append((min(placed) if placed else (big, 0), i))
    order = sorted(range(len(frags)), key=lambda i: keys[i])
    rank = np.empty(len(frags), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(frags))
    n_random = sum(1 for fr in frags for r1, r2 in fr.alignments[:1] for a in (r1, r2) if a is None)
    random_seqs = rng.choice(alphabet, size=(max(n_random, 1), rl)).view(f"S{rl}").ravel()
    random_iter = iter(random_seqs.tolist())
    records: list[Any] = []
    seqs = layout.seqs
    for i, fr in enumerate(frags):
        fr_rank = int(rank[i])
        nh = len(fr.alignments)
        dup = 0x400 if fr.duplicate else 0
        if fr.category in ("singleton", "unmapped_pair"):
            r1, r2 = fr.alignments[0]
            for mate, aln, other in ((1, r1, r2), (2, r2, r1)):
                mflag = 0x40 if mate == 1 else 0x80
                if aln is not None:
                    c, blocks, rev = aln
                    seq = b"".join(bytes(seqs[c][s:e]) for s, e in blocks)
                    flag = 0x1 | 0x8 | mflag | (0x10 if rev else 0) | dup
                    pos = blocks[0][0]
                    records.append(
                        (c, pos, fr_rank, mate, 1, flag, 255, 1, _cigar(blocks), seq, c, pos, 0)
                    )
                else:
                    seq = next(random_iter)
                    if other is not None:
                        c, blocks, rev = other
                        pos = blocks[0][0]
                        flag = 0x1 | 0x4 | mflag | (0x20 if rev else 0) | dup
                        records.append((c, pos, fr_rank, mate, 0, flag, 0, 0, [], seq, c, pos, 0))
                    else:
                        flag = 0x1 | 0x4 | 0x8 | mflag | dup
                        records.append((big, 0, fr_rank, mate, 0, flag, 0, 0, [], seq, -1, -1, 0))
            continue
        mapq = _mapq(nh)
        hit_order = [fr.primary] + [k for k in range(nh) if k != fr.primary]
        for hi, k in enumerate(hit_order, start=1):
            r1, r2 = fr.alignments[k]
            assert r1 is not None and r2 is not None
            sec = 0x100 if hi > 1 else 0
            p1, p2 = r1[1][0][0], r2[1][0][0]
            e1, e2 = r1[1][-1][1], r2[1][-1][1]
            left, right = min(p1, p2), max(e1, e2)
            tlen = right - left
            for mate, aln, oth in ((1, r1, r2), (2, r2, r1)):
                c, blocks, rev = aln
                seq = b"".join(bytes(seqs[c][s:e]) for s, e in blocks)
                flag = (
                    0x1
                    | 0x2
                    | (0x10 if rev else 0)
                    | (0x20 if oth[2] else 0)
                    | (0x40 if mate == 1 else 0x80)
                    | sec
                    | dup
                )
                pos = blocks[0][0]
                opos = oth[1][0][0]
                is_left = pos < opos or (pos == opos and mate == 1)
                signed = tlen if is_left else -tlen
                records.append(
                    (
                        c,
                        pos,
                        fr_rank,
                        mate,
                        hi,
                        flag,
                        mapq,
                        nh,
                        _cigar(blocks),
                        seq,
                        c,
                        opos,
                        signed,
                    )
                )
    records.sort(key=lambda r: (r[0], r[1], r[2], r[3], r[4]))
    names = [format(k, "x") for k in range(len(frags))]
    return records, names


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _write_bam(path: Path, records: list[Any], names: list[str], layout: _Layout) -> None:
    import pysam

    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": n, "LN": ln} for n, ln in zip(layout.names, layout.lengths, strict=True)],
    }
    big = 1 << 40
    with tempfile.TemporaryDirectory() as tmpdir:
        raw = Path(tmpdir) / "raw.bam"
        with pysam.AlignmentFile(str(raw), "wbu", header=header) as out:
            hdr = out.header
            for tid, pos, rank, _mate, hi, flag, mapq, nh, cigar, seq, mtid, mpos, tlen in records:
                rec = pysam.AlignedSegment(hdr)
                rec.query_name = names[rank]
                rec.flag = flag
                if tid == big:
                    rec.reference_id = -1
                    rec.reference_start = -1
                else:
                    rec.reference_id = tid
                    rec.reference_start = pos
                rec.mapping_quality = mapq
                if cigar:
                    rec.cigartuples = cigar
                rec.next_reference_id = mtid
                rec.next_reference_start = mpos
                rec.template_length = tlen
                rec.query_sequence = seq.decode("ascii")
                rec.query_qualities = None
                if nh:
                    rec.set_tag("NH", nh, "C")
                    rec.set_tag("HI", hi, "C")
                out.write(rec)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            _bgzf_compress(gzip.decompress(raw.read_bytes()), handle)
    pysam.index(str(path))


_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _bgzf_compress(data: bytes, handle: BinaryIO, level: int = 9) -> None:
    """Write ``data`` as BGZF (blocks of at most 65,280 bytes, zlib ``level``, EOF marker).

    Used instead of htslib's own compression to get smaller files (level 9) whose bytes
    depend only on Python's zlib.
    """
    block = 65280
    for k in range(0, len(data), block):
        chunk = data[k : k + block]
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
        payload = comp.compress(chunk) + comp.flush()
        header = struct.pack(
            "<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(payload) + 25
        )
        handle.write(header + payload + struct.pack("<II", zlib.crc32(chunk), len(chunk)))
    handle.write(_BGZF_EOF)


def _write_genome(path: Path, layout: _Layout) -> None:
    import pysam

    with tempfile.TemporaryDirectory() as tmpdir:
        plain = Path(tmpdir) / "genome.fa"
        with open(plain, "wb") as handle:
            for name, seq in zip(layout.names, layout.seqs, strict=True):
                handle.write(f">{name}\n".encode())
                for k in range(0, len(seq), 60):
                    handle.write(bytes(seq[k : k + 60]) + b"\n")
        with atomic_path(path) as tmp:
            pysam.tabix_compress(str(plain), str(tmp), force=True)
    for suffix in (".fai", ".gzi"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    pysam.faidx(str(path))


def _gtf_lines(genes: list[_Gene], layout: _Layout) -> Iterator[str]:
    yield "#!genome-build redoxseq-sim-mouse-1\n"
    yield "#!genome-version simulated\n"
    ordered = sorted(
        (g for g in genes if g.contig >= 0), key=lambda g: (g.contig, g.start, g.gene_id)
    )
    for g in ordered:
        chrom = layout.names[g.contig]
        gattr = (
            f'gene_id "{g.gene_id}"; gene_version "1"; gene_name "{g.name}"; '
            f'gene_source "ensembl"; gene_biotype "{g.biotype}";'
        )
        yield f"{chrom}\tensembl\tgene\t{g.start + 1}\t{g.end}\t.\t{g.strand}\t.\t{gattr}\n"
        for t in g.transcripts:
            tattr = (
                f'gene_id "{g.gene_id}"; gene_version "1"; transcript_id "{t.transcript_id}"; '
                f'transcript_version "1"; gene_name "{g.name}"; gene_source "ensembl"; '
                f'gene_biotype "{g.biotype}"; transcript_name "{t.name}"; '
                f'transcript_source "ensembl"; transcript_biotype "{g.biotype}";'
            )
            ts, te = t.exons[0][0], t.exons[-1][1]
            yield f"{chrom}\tensembl\ttranscript\t{ts + 1}\t{te}\t.\t{g.strand}\t.\t{tattr}\n"
            exons = t.exons if g.strand == "+" else t.exons[::-1]
            for k, (s, e) in enumerate(exons, start=1):
                eattr = (
                    f'gene_id "{g.gene_id}"; gene_version "1"; transcript_id '
                    f'"{t.transcript_id}"; transcript_version "1"; exon_number "{k}"; '
                    f'gene_name "{g.name}"; gene_source "ensembl"; gene_biotype "{g.biotype}"; '
                    f'transcript_name "{t.name}"; transcript_source "ensembl"; '
                    f'transcript_biotype "{g.biotype}"; '
                    f'exon_id "ENSMUSE9{t.transcript_id[-8:]}{k:02d}"; exon_version "1";'
                )
                yield f"{chrom}\tensembl\texon\t{s + 1}\t{e}\t.\t{g.strand}\t.\t{eattr}\n"


def _write_gtf(path: Path, genes: list[_Gene], layout: _Layout) -> None:
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        for line in _gtf_lines(genes, layout):
            gz.write(line.encode("ascii"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def sample_table(replicates: int = N_REPLICATES) -> pd.DataFrame:
    """The 2 x 2 x ``replicates`` design.

    One row per sample: sample, cell_line, treatment, replicate.
    """
    rows = [
        {"sample": f"{c}_{t}_{r}", "cell_line": c, "treatment": t, "replicate": r}
        for c in CELL_LINES
        for t in TREATMENTS
        for r in range(1, replicates + 1)
    ]
    return pd.DataFrame(rows)


def library_factors(seed: int, params: SimulationParams) -> np.ndarray:
    """Per-sample library size factors, evenly spread over the range and shuffled by seed."""
    rng = np.random.default_rng([seed, 7])
    n = len(CELL_LINES) * len(TREATMENTS) * params.replicates
    grid = np.round(np.linspace(params.library_factor_min, params.library_factor_max, n), 3)
    return grid[rng.permutation(n)]


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate_experiment` wrote and how many reads of each kind it made.

    ``truth``: genes x (gene_id, gene_name, gene_biotype, category, base_mean, lfc_*);
    ``fragment_counts``: genes x samples, simulated mRNA fragments (before multimapping,
    duplicates and lost mates); ``read_categories``: samples x categories, fragments.
    """

    outdir: Path
    truth: pd.DataFrame
    fragment_counts: pd.DataFrame
    read_categories: pd.DataFrame
    files: tuple[Path, ...]


@dataclass
class _Model:
    genes: list[_Gene]
    layout: _Layout
    samples: pd.DataFrame
    lib: np.ndarray
    counts: np.ndarray
    truth: pd.DataFrame
    fragment_counts: pd.DataFrame


def _build_model(seed: int, params: SimulationParams, catalogue: Path) -> _Model:
    cat = read_gene_catalogue(catalogue)
    genes = _select_genes(cat, params, np.random.default_rng([seed, 1]))
    _assign_effects(genes, params, np.random.default_rng([seed, 2]))
    _assign_expression(genes, params, np.random.default_rng([seed, 3]))
    layout = _layout_genes(genes, params, np.random.default_rng([seed, 4]))
    k = 0
    for g in sorted(genes, key=lambda g: g.gene_id):
        for t in g.transcripts:
            k += 1
            t.transcript_id = f"ENSMUST9{k:010d}"
    _make_sequences(layout, genes, params, np.random.default_rng([seed, 5]))
    samples = sample_table(params.replicates)
    lib = library_factors(seed, params)
    # expected fragments (genes x samples) and negative-binomial (gamma-Poisson) draws
    log2_means = np.array(
        [
            [
                _group_log2(g, c, t)
                for c, t in zip(samples.cell_line, samples.treatment, strict=True)
            ]
            for g in genes
        ]
    )
    mu = np.exp2(log2_means) * lib[None, :]
    alpha = np.array([g.alpha for g in genes])[:, None]
    rng_counts = np.random.default_rng([seed, 6])
    shape = 1.0 / alpha
    lam = rng_counts.gamma(np.broadcast_to(shape, mu.shape), mu / shape)
    counts = rng_counts.poisson(lam)
    fragment_counts = pd.DataFrame(
        counts, index=[g.gene_id for g in genes], columns=list(samples["sample"])
    )
    fragment_counts.index.name = "gene_id"
    fragment_counts = fragment_counts.sort_index()
    truth = _truth_table(genes, mu)
    return _Model(genes, layout, samples, lib, counts, truth, fragment_counts)


def simulate_counts(
    *,
    seed: int = DEFAULT_SEED,
    params: SimulationParams | None = None,
    catalogue: str | Path = DEFAULT_CATALOGUE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The truth table and the simulated mRNA fragment counts, without writing any file.

    Returns
    -------
    truth
        genes x (gene_id, gene_name, gene_biotype, category, base_mean, lfc_*), as in
        ``truth.tsv``.
    fragment_counts
        genes x samples (index gene_id), mRNA fragments drawn for each gene, before
        multimapping, duplicates and lost mates; the BAMs of :func:`simulate_experiment`
        with the same seed hold exactly these fragments.
    """
    model = _build_model(seed, params or SimulationParams(), Path(catalogue))
    return model.truth, model.fragment_counts


def simulate_experiment(
    outdir: str | Path = DEFAULT_OUTDIR,
    *,
    seed: int = DEFAULT_SEED,
    params: SimulationParams | None = None,
    catalogue: str | Path = DEFAULT_CATALOGUE,
) -> SimulationResult:
    """Simulate the sample experiment into ``outdir``; the same seed gives the same bytes.

    Parameters
    ----------
    outdir
        Output folder (created). Files: ``genome.fa.gz`` (+ ``.fai``, ``.gzi``),
        ``annotation.gtf.gz``, ``bams/<sample>.bam`` (+ ``.bai``), ``truth.tsv``,
        ``samples.tsv``, ``units.tsv``, ``README.md``.
    seed
        Seed of every random draw.
    params
        Model parameters; :class:`SimulationParams` defaults make the bundled experiment,
        :meth:`SimulationParams.tiny` a small one for tests.
    catalogue
        Real mouse genes to use (see :func:`build_gene_catalogue`).
    """
    params = params or SimulationParams()
    out = Path(outdir)
    model = _build_model(seed, params, Path(catalogue))
    genes, layout, samples, lib = model.genes, model.layout, model.samples, model.lib
    counts = model.counts
    truth, fragment_counts = model.truth, model.fragment_counts
    (out / "bams").mkdir(parents=True, exist_ok=True)
    _write_genome(out / "genome.fa.gz", layout)
    _write_gtf(out / "annotation.gtf.gz", genes, layout)
    category_rows = []
    for j, sample in enumerate(samples["sample"]):
        rng = np.random.default_rng([seed, 100 + j])
        frags = _simulate_sample_fragments(genes, layout, counts[:, j], params, rng)
        records, names = _records_for_sample(frags, layout, params, rng)
        _write_bam(out / "bams" / f"{sample}.bam", records, names, layout)
        tally = {name: 0 for name in _CATEGORY_NAMES}
        dups = 0
        for fr in frags:
            tally[fr.category] += 1
            dups += fr.duplicate
        tally["duplicate"] = dups
        tally["records"] = len(records)
        category_rows.append(pd.Series(tally, name=sample))
        logger.info("%s: %d fragments, %d records", sample, len(frags), len(records))
    read_categories = pd.DataFrame(category_rows)
    read_categories.index.name = "sample"
    write_tsv(truth, out / "truth.tsv", index=False)
    write_tsv(samples, out / "samples.tsv", index=False)
    units = pd.DataFrame(
        {
            "sample": samples["sample"],
            "unit": "1",
            "bam": [BAM_PATH_IN_UNITS.format(sample=s) for s in samples["sample"]],
        }
    )
    write_tsv(units, out / "units.tsv", index=False)
    files = _output_files(out, samples)
    _write_readme(out, seed, params, truth, read_categories, lib, samples, files)
    return SimulationResult(
        out, truth, fragment_counts, read_categories, (*files, out / "README.md")
    )


def _output_files(out: Path, samples: pd.DataFrame) -> list[Path]:
    files = [
        out / "genome.fa.gz",
        out / "genome.fa.gz.fai",
        out / "genome.fa.gz.gzi",
        out / "annotation.gtf.gz",
    ]
    for sample in samples["sample"]:
        files += [out / "bams" / f"{sample}.bam", out / "bams" / f"{sample}.bam.bai"]
    files += [out / "truth.tsv", out / "samples.tsv", out / "units.tsv"]
    return files


def _truth_table(genes: list[_Gene], mu: np.ndarray) -> pd.DataFrame:
    rows = []
    for g, m in zip(genes, mu, strict=True):
        expressed = g.q > 0
        lfc = {
            "lfc_resistant_vs_sensitive": g.cl,
            "lfc_sorafenib_vs_vehicle_in_sensitive": g.s,
            "lfc_sorafenib_vs_vehicle_in_resistant": g.f * g.s,
            "lfc_sorafenib_response_resistant_vs_sensitive": (g.f - 1.0) * g.s,
        }
        rows.append(
            {
                "gene_id": g.gene_id,
                "gene_name": g.name,
                "gene_biotype": g.biotype,
                "category": g.category,
                "base_mean": round(float(m.mean()), 3),
                **{k: (round(v, 6) + 0.0 if expressed else 0.0) for k, v in lfc.items()},
            }
        )
    table = pd.DataFrame(rows).sort_values("gene_id", kind="stable").reset_index(drop=True)
    return table


_README_TEMPLATE = """\
# Sample experiment (simulated)

A small, fully simulated mouse RNA-seq experiment for trying and testing redoxseq: sorafenib
resistant vs sensitive liver-cancer cells, each treated with vehicle or sorafenib, {replicates}
replicates. Made by `redoxseq/sim/experiment.py`; every byte is reproduced by

```
python -m redoxseq.simulate --seed {seed}{scale_args} --outdir resources/sample_experiment
```

Gene symbols and Ensembl gene IDs are real mouse genes (file `source/gene_catalogue.tsv`, see
`source/PROVENANCE.md`); the sequence, gene structures, transcript/exon IDs
(`ENSMUST9...`, `ENSMUSE9...`), expression and reads are simulated. Do not use it for biology.

## Design

| sample | cell_line | treatment | replicate | library factor |
|---|---|---|---|---|
{design_rows}

## Genome and annotation

- {n_contigs} contigs ({contigs}), {genome_bp:,} bp in all, random sequence (GC {gc}) with
  canonical GT..AG splice sites; bgzip-compressed with `.fai` and `.gzi` (pysam).
- `annotation.gtf.gz`: Ensembl-style GTF (gene, transcript and exon lines; `gene_id`,
  `gene_name`, `gene_biotype`, `transcript_id`, ...), gzip with mtime 0. {n_genes} genes
  ({biotypes}), {n_tx} transcripts: multi-exon genes with up to three isoforms (exon skipping,
  alternative first exon) on both strands, {n_antisense} antisense genes overlapping the 5' end
  of their sense gene on the other strand, {n_glue} pairs of same-strand genes whose terminal
  exons overlap, {n_pseudo} processed pseudogenes (exact copies of the parent mRNA, annotated,
  never expressed themselves) and {n_segdup} unannotated duplicated segments (copies of the 3'
  part of a gene). Reads in the copied sequence are multimappers.

## Reads

Paired-end 2x{rl}, reverse-stranded (dUTP: read 1 antisense to the RNA, read 2 sense), base
qualities `*`, no sequencing errors. Fragment length ~ Normal({fmean}, {fsd}) bp, clipped to the
transcript. BAMs are coordinate-sorted in Python (no `@PG` line), indexed with `pysam.index`.
Records carry `NH` and `HI` on every mapped record; MAPQ is STAR-like (255 unique, 3 for NH 2,
1 for NH 3-4, 0 for NH > 4). Multimappers have one primary and NH - 1 secondary (0x100) pairs.
Read categories (fragments, summed over the 12 samples; per-sample numbers in the table below):

- exonic unique: mRNA fragments from the chosen isoform (spliced reads have `N` in the CIGAR);
- exonic multimapper: mRNA fragments lying in a pseudogene copy or duplicated segment (NH > 1,
  MAPQ 3/1/0);
- intronic: pre-mRNA fragments with both mates inside one intron ({intronic:.0%} of mRNA);
- intergenic: fragments between genes, either strand ({intergenic:.0%} of mRNA);
- singleton: one mate mapped, the other unmapped (flag 0x8 on the mapped mate; the unmapped mate
  is placed at its mate's position, per the SAM convention) ({singleton:.0%} of mRNA);
- unmapped pair: both mates unmapped, at the end of the file ({unmapped:.1%} of mRNA);
- duplicate: an extra copy of a fragment, every record flagged 0x400 ({dup:.0%} of all
  fragments, not counted in the categories above).

| sample | {cat_header} |
|---|{cat_sep}
{cat_rows}
| total | {cat_totals} |

## Expression model

Per gene g and sample j: `log2 mu_gj = log2 q_g + cl_g*[resistant] + s_g*[sorafenib]
+ (f_g - 1)*s_g*[resistant and sorafenib] + log2 L_j`; mRNA fragment counts are negative
binomial (gamma-Poisson) with mean `mu_gj` and dispersion
`alpha_g = ({a0} + {a1}/q_g) * exp({asd} * z_g)`, `z_g ~ N(0, 1)`. The library factors `L_j`
are {lmin}-{lmax}, evenly spread and shuffled (table above). Fragments are split between a
gene's isoforms by fixed per-gene weights (no differential isoform usage).

Baseline `q_g` (mRNA fragments, sensitive + vehicle, L = 1): unchanged protein-coding genes
log-normal (median {mbg}, sdlog {sbg}; {nexp:.0%} not expressed); lncRNA/antisense median
{mnc}; NRF2 targets median {mnrf}; cell-line and panel genes median {mchg}; sorafenib-responsive
genes median {msor} (changed genes: sdlog {schg}, floored at {floor} x median, so that the
end-to-end test measures the pipeline rather than the power of three replicates at 2 reads);
pseudogene parents median {mpp}.

Effects (log2; drawn uniformly in the ranges, rounded to 3 decimals, `f` to 2):

| category | genes | cl (resistant vs sensitive) | s (sorafenib, sensitive) | f (kept) |
|---|---|---|---|---|
{effect_rows}

## truth.tsv

One row per gene (sorted by gene_id): `gene_id`, `gene_name`, `gene_biotype`, `category`,
`base_mean` (mean over the 12 samples of the expected number of simulated mRNA fragments,
`mu_gj`; featureCounts-style counts are a little lower for pseudogene parents, duplicated genes
and same-strand overlaps, whose multimapping or ambiguous fragments are not counted, and a little
higher from duplicates), and the true log2 fold changes computed from the group means:

- `lfc_resistant_vs_sensitive` = cl (vehicle; also holds in sorafenib-treated cells unless the
  gene responds to sorafenib);
- `lfc_sorafenib_vs_vehicle_in_sensitive` = s;
- `lfc_sorafenib_vs_vehicle_in_resistant` = f * s;
- `lfc_sorafenib_response_resistant_vs_sensitive` = (f - 1) * s, the interaction.

Unchanged genes have exactly 0 in every column; genes that are not expressed (base_mean 0) too.

## Files

| file | bytes | SHA-256 |
|---|---|---|
{file_rows}

`samples.tsv` and `units.tsv` are the sample sheet and units sheet for `config/`.
`source/` holds the input gene catalogue (not regenerated).

## Parameters

```
{param_dump}
```
"""

_EFFECT_TEXT = {
    "nrf2_target": ("cl up {nrf2}", "0", "1"),
    "sorafenib_stress": ("0", "up {sor}", "{blunt}"),
    "ferroptosis": ("0", "up {sor}", "{blunt}"),
    "apoptosis": ("0", "up {sor} (Bcl2 down)", "{blunt}"),
    "sorafenib_response": ("0", "+/- {sor} ({sorsmallfrac:.0%} in {sorsmall})", "{blunt}"),
    "sorafenib_common": ("0", "+/- {com}", "1"),
    "necroptosis": ("0", "up {com}", "1"),
    "cell_line": ("+/- {cl} ({clsmallfrac:.0%} in {clsmall})", "0", "1"),
    "pyroptosis": ("up {panel}", "0", "1"),
    "autophagy": ("up {panel}", "0", "1"),
}


def _write_readme(
    out: Path,
    seed: int,
    params: SimulationParams,
    truth: pd.DataFrame,
    cats: pd.DataFrame,
    lib: np.ndarray,
    samples: pd.DataFrame,
    files: list[Path],
) -> None:
    def rng_text(b: tuple[float, float]) -> str:
        return f"{b[0]}-{b[1]}"

    fmt = {
        "nrf2": rng_text(params.nrf2_lfc),
        "sor": rng_text(params.sorafenib_lfc),
        "sorsmall": rng_text(params.sorafenib_small_lfc),
        "sorsmallfrac": params.sorafenib_small_fraction,
        "com": rng_text(params.sorafenib_common_lfc),
        "cl": rng_text(params.cell_line_lfc),
        "clsmall": rng_text(params.cell_line_small_lfc),
        "clsmallfrac": params.cell_line_small_fraction,
        "panel": rng_text(params.panel_cell_line_lfc),
        "blunt": rng_text(params.resistant_response_fraction),
    }
    effect_rows = []
    counts_by_cat = truth["category"].value_counts()
    for category, n in sorted(counts_by_cat.items()):
        cl, s, f = _EFFECT_TEXT.get(str(category), ("0", "0", "1"))
        effect_rows.append(
            f"| {category} | {n} | {cl.format(**fmt)} | {s.format(**fmt)} | {f.format(**fmt)} |"
        )
    design_rows = "\n".join(
        f"| {r.sample} | {r.cell_line} | {r.treatment} | {r.replicate} | {lib[i]:.3f} |"
        for i, r in enumerate(samples.itertuples())
    )
    cat_cols = list(cats.columns)
    cat_rows = "\n".join(
        f"| {s} | " + " | ".join(str(int(v)) for v in row) + " |"
        for s, row in zip(cats.index, cats.to_numpy(), strict=True)
    )
    file_rows = "\n".join(
        f"| `{p.relative_to(out).as_posix()}` | {p.stat().st_size:,} | `{_sha256(p)}` |"
        for p in files
    )
    total = sum(p.stat().st_size for p in files)
    file_rows += f"\n| total (without README.md) | {total:,} | |"
    biotypes = truth["gene_biotype"].value_counts()
    gtf_genes = truth
    n_tx = 0
    # `replicates` is listed only when it is not the bundled 3 (keeps the committed README)
    param_dump = "\n".join(
        f"{k} = {v!r}"
        for k, v in asdict(params).items()
        if not (k == "replicates" and v == N_REPLICATES)
    )
    with gzip.open(out / "annotation.gtf.gz", "rt") as gtf_handle:
        for line in gtf_handle:
            if "\ttranscript\t" in line:
                n_tx += 1
    fai = pd.read_csv(out / "genome.fa.gz.fai", sep="\t", header=None)
    default = SimulationParams()
    scale_args = (
        "" if params.replicates == default.replicates else (f" --replicates {params.replicates}")
    )
    if params.n_background != default.n_background and params != SimulationParams.tiny():
        scale_args += f" --genes {params.n_background}"
    text = _README_TEMPLATE.format(
        seed=seed,
        replicates="three" if params.replicates == 3 else str(params.replicates),
        scale_args=scale_args,
        design_rows=design_rows,
        n_contigs=len(params.contigs),
        contigs=", ".join(params.contigs),
        genome_bp=int(fai[1].sum()),
        gc=params.gc_content,
        n_genes=len(gtf_genes),
        biotypes=", ".join(f"{n} {b}" for b, n in biotypes.items()),
        n_tx=n_tx,
        n_antisense=int((truth["gene_biotype"] == "antisense").sum()),
        n_glue=params.n_same_strand_overlaps,
        n_pseudo=int((truth["category"] == "pseudogene").sum()),
        n_segdup=params.n_segmental_duplications,
        rl=params.read_length,
        fmean=params.fragment_mean,
        fsd=params.fragment_sd,
        intronic=params.intronic_fraction,
        intergenic=params.intergenic_fraction,
        singleton=params.singleton_fraction,
        unmapped=params.unmapped_pair_fraction,
        dup=params.duplicate_fraction,
        cat_header=" | ".join(cat_cols),
        cat_sep="---|" * len(cat_cols),
        cat_rows=cat_rows,
        cat_totals=" | ".join(str(int(v)) for v in cats.sum().to_numpy()),
        a0=params.dispersion_asymptote,
        a1=params.dispersion_extra_poisson,
        asd=params.dispersion_sdlog,
        lmin=params.library_factor_min,
        lmax=params.library_factor_max,
        mbg=params.median_background,
        sbg=params.sdlog_background,
        nexp=params.fraction_not_expressed,
        mnc=params.median_noncoding,
        mnrf=params.median_nrf2,
        mchg=params.median_changed,
        msor=params.median_sorafenib,
        schg=params.sdlog_changed,
        floor=params.min_changed_ratio,
        mpp=params.pseudogene_parent_median,
        effect_rows="\n".join(effect_rows),
        file_rows=file_rows,
        param_dump=param_dump,
    )
    with atomic_open(out / "README.md") as handle:
        handle.write(text)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m redoxseq.simulate --seed N --outdir DIR [--tiny]``."""
    from redoxseq.logs import setup_logging

    parser = argparse.ArgumentParser(
        prog="python -m redoxseq.simulate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE)
    parser.add_argument("--tiny", action="store_true", help="a small experiment for tests")
    parser.add_argument(
        "--replicates",
        type=int,
        default=N_REPLICATES,
        help="replicates per cell_line x treatment group (4 groups; 12 -> 48 samples)",
    )
    parser.add_argument(
        "--genes",
        type=int,
        default=None,
        help="unchanged background genes (default 850; at most what the catalogue holds)",
    )
    parser.add_argument(
        "--make-catalogue",
        action="store_true",
        help="rebuild --catalogue from --id-map and --gmt instead of simulating",
    )
    parser.add_argument("--id-map", type=Path, help="MSigDB mouse gene ID map (TSV)")
    parser.add_argument("--gmt", type=Path, help="mouse gene sets (GMT) for background genes")
    parser.add_argument(
        "--fastq",
        action="store_true",
        help="write fastq/ (paired, gzipped) from the BAMs in --outdir (simulated first if absent)",
    )
    args = parser.parse_args(argv)
    setup_logging()
    if args.make_catalogue:
        if args.id_map is None or args.gmt is None:
            parser.error("--make-catalogue needs --id-map and --gmt")
        table = build_gene_catalogue(args.id_map, args.gmt, seed=args.seed)
        write_tsv(table, args.catalogue, index=False)
        return 0
    params = SimulationParams.tiny() if args.tiny else SimulationParams()
    if args.replicates < 2:
        parser.error(f"--replicates {args.replicates}: at least 2 replicates per group")
    scaled = {"replicates": args.replicates}
    if args.genes is not None:
        scaled["n_background"] = args.genes
    params = replace(params, **scaled)
    names = list(sample_table(params.replicates)["sample"])
    if not args.fastq or not all((args.outdir / "bams" / f"{s}.bam").is_file() for s in names):
        simulate_experiment(args.outdir, seed=args.seed, params=params, catalogue=args.catalogue)
    if args.fastq:
        from redoxseq.sim.fastq import write_fastq

        write_fastq(args.outdir, names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
