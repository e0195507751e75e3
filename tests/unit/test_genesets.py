"""Tests of the gene-set library: GMT parsing, manifests, licences, orthologs, ID mapping."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from redoxseq.enrichment.genesets import (
    ALLOWED_LICENCES,
    BUNDLED_COLLECTIONS,
    LIBRARY_DIR,
    bundled_gmt_path,
    check_overlap,
    id_to_symbol,
    load_bundled,
    manifest_path,
    map_orthologs,
    read_gmt,
    read_manifest,
    read_ortholog_table,
    sha256sum,
    strip_ensembl_version,
    write_gmt,
)
from redoxseq.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "genesets"
SPECIES = ("human", "mouse")


# --- GMT parsing ------------------------------------------------------------------------
def test_read_gmt_toy_file_keeps_order_and_drops_repeats() -> None:
    sets = read_gmt(DATA / "toy_mouse.gmt")
    assert list(sets) == ["SET_A", "SET_B"]
    assert sets["SET_A"] == ["Gpx4", "Slc7a11", "Txn1"]
    assert sets["SET_B"] == ["Hmox1", "Nqo1"]


def test_malformed_gmt_line_is_named() -> None:
    with pytest.raises(InputError, match=r"malformed\.gmt, line 2: malformed GMT line"):
        read_gmt(DATA / "malformed.gmt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A\tdesc\tX\nA\tdesc\tY\n", r"line 2: gene set 'A' appears twice"),
        ("A\tdesc\t\t \n", r"line 1: gene set 'A' lists no genes"),
        ("\tdesc\tX\n", r"line 1: the gene-set name"),
        ("\n\n", r"no gene sets found"),
    ],
)
def test_read_gmt_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.gmt"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_gmt(path)


def test_read_gmt_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="gene-set file not found"):
        read_gmt(tmp_path / "absent.gmt")


def test_read_gmt_handles_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.gmt"
    path.write_bytes(b"A\tdesc\tGpx4\tTxn1\r\nB\tdesc\tNqo1\r\n")
    assert read_gmt(path) == {"A": ["Gpx4", "Txn1"], "B": ["Nqo1"]}


def test_write_then_read_roundtrip(tmp_path: Path) -> None:
    sets = {"S1": ["a", "b"], "S2": ["c"]}
    write_gmt(sets, tmp_path / "r.gmt", {"S1": "first"})
    assert read_gmt(tmp_path / "r.gmt") == sets
    assert (tmp_path / "r.gmt").read_text() == "S1\tfirst\ta\tb\nS2\t\tc\n"


# --- bundled library vs manifests -------------------------------------------------------
@pytest.mark.parametrize("species", SPECIES)
@pytest.mark.parametrize("collection", BUNDLED_COLLECTIONS)
def test_bundled_collection_matches_manifest(species: str, collection: str) -> None:
    gmt = bundled_gmt_path(collection, species)  # type: ignore[arg-type]
    manifest = read_manifest(manifest_path(gmt))
    sets = read_gmt(gmt)
    assert manifest["collection"] == collection
    assert manifest["species"] == species
    assert manifest["sha256"] == sha256sum(gmt)
    assert manifest["n_gene_sets"] == len(sets)
    assert manifest["n_genes"] == len({g for genes in sets.values() for g in genes})
    stated = {entry["name"]: entry["n_genes"] for entry in manifest["gene_sets"]}
    assert stated == {name: len(genes) for name, genes in sets.items()}
    for entry in manifest["gene_sets"]:
        for key in ("source", "version", "licence", "citation", "source_id"):
            assert entry[key], f"{gmt}: {entry['name']} lacks {key}"


@pytest.mark.parametrize("species", SPECIES)
@pytest.mark.parametrize("collection", BUNDLED_COLLECTIONS)
def test_bundled_licences_are_redistributable(species: str, collection: str) -> None:
    manifest = read_manifest(LIBRARY_DIR / species / f"{collection}.manifest.yaml")
    for entry in manifest["gene_sets"]:
        assert entry["licence"] in ALLOWED_LICENCES, entry
        text = " ".join(str(entry[k]) for k in ("name", "source", "source_id", "citation"))
        assert not re.search(r"KEGG|FerrDb|BIOCARTA", text, flags=re.IGNORECASE), entry
    assert set(manifest["licences"]) <= ALLOWED_LICENCES


def test_key_sets_present_in_both_species() -> None:
    for species in SPECIES:
        nrf2 = load_bundled("nrf2", species)  # type: ignore[arg-type]
        ferro = load_bundled("ferroptosis", species)  # type: ignore[arg-type]
        death = load_bundled("cell_death", species)  # type: ignore[arg-type]
        hallmark = load_bundled("hallmark", species)  # type: ignore[arg-type]
        assert {"REDOXSEQ_NRF2_CORE_TARGETS", "WP_NRF2_PATHWAY"} <= set(nrf2)
        assert "HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY" in nrf2
        assert {"WP_FERROPTOSIS", "REDOXSEQ_FERROPTOSIS_DRIVERS"} <= set(ferro)
        assert set(death) == {
            f"CELL_DEATH_{p}"
            for p in ("APOPTOSIS", "NECROPTOSIS", "PYROPTOSIS", "AUTOPHAGY", "FERROPTOSIS")
        }
        assert len(hallmark) == 50


def test_mouse_sets_use_orthologs_not_case_changes() -> None:
    nrf2 = load_bundled("nrf2", "mouse")
    ferro = load_bundled("ferroptosis", "mouse")
    core = nrf2["REDOXSEQ_NRF2_CORE_TARGETS"]
    assert {"Txn1", "G6pdx", "Ftl1", "Fth1", "Nqo1", "Hmox1", "Gclc", "Slc7a11"} <= set(core)
    assert not {"Txn", "G6pd", "Ftl", "TXN"} & set(core)
    assert "Trp53" in ferro["REDOXSEQ_FERROPTOSIS_DRIVERS"]
    wp_ferro = ferro["WP_FERROPTOSIS"]
    assert not {"Akr1c1", "Akr1c2", "Akr1c3", "Map1lc3c"} & set(wp_ferro)
    assert "Gpx4" in wp_ferro and "Trf" in wp_ferro
    unmapped = pd.read_csv(LIBRARY_DIR / "mouse" / "ferroptosis.unmapped.tsv", sep="\t")
    assert {"AKR1C1", "AKR1C2", "AKR1C3", "MAP1LC3C"} <= set(unmapped["gene"])


# --- ortholog table ---------------------------------------------------------------------
def test_ortholog_table_known_pairs() -> None:
    table = read_ortholog_table()
    pairs = dict(zip(table["human_symbol"], table["mouse_symbol"], strict=True))
    expected = {
        "TXN": "Txn1",
        "G6PD": "G6pdx",
        "TP53": "Trp53",
        "TF": "Trf",
        "FTL": "Ftl1",
        "GPX4": "Gpx4",
        "NFE2L2": "Nfe2l2",
    }
    assert {k: pairs.get(k) for k in expected} == expected
    for gene in ("AKR1C1", "AKR1C2", "AKR1C3", "GSTA1", "MAP1LC3C"):
        assert gene not in pairs
    assert table["human_symbol"].is_unique and table["mouse_symbol"].is_unique


def test_map_orthologs_reports_genes_without_one() -> None:
    table = pd.DataFrame({"human_symbol": ["TXN", "GPX4"], "mouse_symbol": ["Txn1", "Gpx4"]})
    result = map_orthologs(
        {"S": ["TXN", "GPX4", "AKR1C1", "TXN"]},
        table,
        source="human",
        target="mouse",
        known_no_one2one={"AKR1C1": "one-to-many"},
    )
    assert result.gene_sets == {"S": ["Txn1", "Gpx4"]}
    assert result.unmapped.to_dict("records") == [
        {"gene_set": "S", "gene": "AKR1C1", "reason": "one-to-many"}
    ]


# --- curated lists ----------------------------------------------------------------------
def test_curated_tables_cite_every_gene() -> None:
    citations = pd.read_csv(LIBRARY_DIR / "curated" / "citations.tsv", sep="\t")
    known = set(citations["citation"])
    for name in ("nrf2_core.tsv", "ferroptosis_genes.tsv"):
        table = pd.read_csv(LIBRARY_DIR / "curated" / name, sep="\t")
        assert list(table.columns) == ["human_symbol", "role", "evidence", "citation"]
        assert table["human_symbol"].is_unique
        for row in table.itertuples(index=False):
            cited = [c.strip() for c in row.citation.split(";")]
            assert cited and all(re.fullmatch(r"doi:10\.\d{4,}/\S+", c) for c in cited), row
            assert set(cited) <= known, row
            assert row.evidence.strip()


# --- gene IDs, overlap ------------------------------------------------------------------
def test_strip_ensembl_version() -> None:
    assert strip_ensembl_version("ENSMUSG00000015839.7") == "ENSMUSG00000015839"
    assert strip_ensembl_version("ENSG00000116044") == "ENSG00000116044"
    assert strip_ensembl_version("Gpx4.2") == "Gpx4.2"


def test_id_to_symbol_with_and_without_version() -> None:
    annotation = pd.DataFrame(
        {
            "gene_id": ["ENSMUSG00000015839.7", "ENSMUSG00000075706", "ENSMUSG00000000001"],
            "gene_name": ["Nfe2l2", "Gpx4", None],
        }
    )
    mapping = id_to_symbol(annotation)
    assert mapping["ENSMUSG00000015839.7"] == "Nfe2l2"
    assert mapping["ENSMUSG00000015839"] == "Nfe2l2"
    assert mapping["ENSMUSG00000075706"] == "Gpx4"
    assert "ENSMUSG00000000001" not in mapping
    with pytest.raises(InputError, match="gene_name"):
        id_to_symbol(annotation[["gene_id"]])


def test_wrong_species_stops_with_examples() -> None:
    human_sets = load_bundled("nrf2", "human")
    mouse_genes = [g for genes in load_bundled("hallmark", "mouse").values() for g in genes]
    with pytest.raises(InputError) as info:
        check_overlap(human_sets, mouse_genes, label="nrf2.gmt")
    message = str(info.value)
    assert "nrf2.gmt" in message and "wrong species" in message
    assert re.search(r"Gene sets use e\.g\. \[[A-Z0-9]", message)  # human examples
    assert re.search(r"the data uses e\.g\. \[.*[a-z]", message)  # mouse examples


def test_wrong_id_type_stops() -> None:
    with pytest.raises(InputError, match="identifier type"):
        check_overlap({"S": ["Gpx4", "Txn1"]}, ["ENSMUSG00000075706"], label="x")
    assert check_overlap({"S": ["Gpx4", "Txn1"]}, ["Gpx4", "Actb"], label="x") == 0.5


def test_genes_in_sets_unites_named_sets_across_files(tmp_path) -> None:
    from redoxseq.enrichment.genesets import genes_in_sets

    first = tmp_path / "a.gmt"
    first.write_text("NRF2\tdesc\tHmox1\tNqo1\nOTHER\tdesc\tActb\n", encoding="utf-8")
    second = tmp_path / "b.gmt"
    second.write_text("FERRO\tdesc\tGpx4\tNqo1\n", encoding="utf-8")
    assert genes_in_sets([first, second], ["NRF2", "FERRO"]) == {"Hmox1", "Nqo1", "Gpx4"}
    with pytest.raises(InputError, match=r"\['MISSING'\] not found"):
        genes_in_sets([first], ["MISSING"])


def test_symbol_coverage_stops_on_the_wrong_species_before_any_fit() -> None:
    import pandas as pd

    from redoxseq.enrichment.genesets import symbol_coverage

    sets = {"nrf2": {"core": ["Gpx4", "Txn1", "Nqo1", "Hmox1"]}}
    mouse = pd.DataFrame({"gene_id": ["e1", "e2", "e3"], "gene_name": ["Gpx4", "Nqo1", "Actb"]})
    table = symbol_coverage(sets, mouse, min_fraction=0.05, source="genes.tsv")
    assert table.to_dict("records") == [
        {"collection": "nrf2", "genes": 4, "found": 2, "fraction": 0.5}
    ]
    human = mouse.assign(gene_name=["GPX4", "NQO1", "ACTB"])
    with pytest.raises(InputError, match=r"genes.tsv: gene symbols vs collection 'nrf2'.*GPX4"):
        symbol_coverage(sets, human, min_fraction=0.05, source="genes.tsv")
