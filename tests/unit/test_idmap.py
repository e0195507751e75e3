"""Gene identifiers to symbols with the bundled ID tables; the tables are what the script builds."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from redoxseq.errors import InputError
from redoxseq.idmap import (
    annotate_symbols,
    check_mapping,
    guess_species,
    id_type,
    map_to_symbols,
    mapping_summary,
    read_id_table,
)
from tests.conftest import REPO, SHARED_DATA

IDMAPS = REPO / "resources" / "idmaps"
SOURCES = SHARED_DATA / "genesets" / "id_mapping"
MARIONI = REPO / "tests" / "data" / "counts" / "marioni2008" / "counts.tsv.gz"


@pytest.fixture(scope="module")
def human() -> pd.DataFrame:
    return read_id_table(IDMAPS / "human" / "gene_ids.tsv.gz")


@pytest.fixture(scope="module")
def mouse() -> pd.DataFrame:
    return read_id_table(IDMAPS / "mouse" / "gene_ids.tsv.gz")


@pytest.fixture(scope="module")
def marioni_ids() -> list[str]:
    return [str(i) for i in pd.read_csv(MARIONI, sep="\t", index_col=0).index]


def test_id_types_are_recognised() -> None:
    assert id_type(["ENSG00000141510", "ENSG00000012048.23"]) == "ensembl"
    assert id_type(["7157", "672"]) == "entrez"
    assert id_type(["TP53", "BRCA1"]) == "symbol"
    assert guess_species(["ENSMUSG00000059552"]) == "mouse"


def test_the_same_gene_maps_from_each_identifier_type(human) -> None:
    # TP53: Ensembl ENSG00000141510, Entrez 7157 (NCBI Gene); with and without version suffix
    for ids in (["ENSG00000141510"], ["ENSG00000141510.18"], ["7157"], ["TP53"]):
        symbols, report = map_to_symbols(ids, human, "human")
        assert list(symbols) == ["TP53"] and report.mapped == 1, ids


def test_real_human_matrix_maps_with_and_without_versions(human, marioni_ids) -> None:
    _, plain = map_to_symbols(marioni_ids, human, "human")
    versioned = [f"{i}.7" for i in marioni_ids]
    _, with_version = map_to_symbols(versioned, human, "human")
    assert plain.share > 0.9 and with_version.mapped == plain.mapped


def test_wrong_species_stops_naming_what_was_found(mouse, marioni_ids) -> None:
    _, report = map_to_symbols(marioni_ids, mouse, "mouse")
    assert report.share < 0.05  # human Ensembl IDs do not map to the mouse table
    with pytest.raises(InputError) as error:
        check_mapping(report, marioni_ids, 0.5, "counts.tsv")
    message = str(error.value)
    assert "ensembl IDs" in message and marioni_ids[0] in message
    assert "look like human Ensembl IDs" in message and "species" in message


def test_unknown_ids_keep_their_id_and_are_counted(human) -> None:
    annotation = pd.DataFrame(
        {"gene_name": ["ENSG00000141510", "ENSG99999999999"]},
        index=pd.Index(["ENSG00000141510", "ENSG99999999999"], name="gene_id"),
    )
    named, report = annotate_symbols(annotation, human, "human")
    assert list(named["gene_name"]) == ["TP53", "ENSG99999999999"]
    assert report.examples_unmapped == ("ENSG99999999999",)
    summary = mapping_summary(named, "bundled", "human").iloc[0]
    assert (summary["genes"], summary["with_symbol"], summary["share_with_symbol"]) == (2, 1, 0.5)


@pytest.mark.skipif(not SOURCES.is_dir(), reason=f"public sources not found at {SOURCES}")
def test_build_script_reproduces_the_bundled_tables_byte_for_byte(tmp_path) -> None:
    copy = tmp_path / "idmaps"
    shutil.copytree(IDMAPS, copy)
    for built in copy.glob("*/*"):
        built.unlink()
    result = subprocess.run(
        [sys.executable, str(copy / "build.py"), str(SOURCES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for species in ("human", "mouse"):
        names = sorted(p.name for p in (IDMAPS / species).iterdir())
        assert sorted(p.name for p in (copy / species).iterdir()) == names
        _, mismatch, errors = filecmp.cmpfiles(
            IDMAPS / species, copy / species, names, shallow=False
        )
        assert not mismatch and not errors, (species, mismatch, errors)


def _count_matrix_workdir(tmp_path, species: str):
    import yaml

    work = tmp_path / "work"
    (work / "config").mkdir(parents=True)
    shutil.copy(MARIONI.parent / "samples.tsv", work / "config" / "samples.tsv")
    shutil.copy(MARIONI, work / "counts.tsv.gz")
    (work / "resources").symlink_to(REPO / "resources")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["species"] = species
    config["annotation"] = {"gtf": "", "genome_fasta": ""}
    config["counting"]["count_matrix"] = "counts.tsv.gz"
    config["deseq2"]["design"] = "~ tissue"
    config["deseq2"]["reference_levels"] = {"tissue": "Kidney"}
    config["contrasts"] = {
        "liver_vs_kidney": {"factor": "tissue", "numerator": "Liver", "denominator": "Kidney"}
    }
    config["plots"]["highlight_gene_sets"] = []
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return work


def _dry_run(work):
    from tests.conftest import BIN

    return subprocess.run(
        [str(BIN / "snakemake"), "-n", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(work), "--cores", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_dry_run_stops_on_a_human_matrix_configured_as_mouse(tmp_path) -> None:
    result = _dry_run(_count_matrix_workdir(tmp_path, "mouse"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "mapped to mouse gene symbols" in output and "look like human Ensembl IDs" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_dry_run_maps_a_human_matrix_and_logs_the_share(tmp_path) -> None:
    result = _dry_run(_count_matrix_workdir(tmp_path, "human"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "mapped to human gene symbols" in output and "import_count_matrix" in output
