"""Design formulas, design matrices, named contrasts and the pre-flight (no model fitting)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from redoxseq.de.design import build_design, parse_formula, preflight
from redoxseq.errors import ConfigError
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "deseq2"
DATA = REPO / "tests" / "data" / "counts"


def _two_by_two(replicates: int = 3) -> pd.DataFrame:
    rows = [
        (f"{c}_{t}_{r}", c, t)
        for c in ("sensitive", "resistant")
        for t in ("vehicle", "sorafenib")
        for r in range(1, replicates + 1)
    ]
    return pd.DataFrame(rows, columns=["sample", "cell_line", "treatment"]).set_index(
        "sample", drop=False
    )


@pytest.fixture(scope="module")
def shipped() -> dict:
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- formulas ------------------------------------------------------------------------------


def test_formula_expands_crossing_and_orders_terms_by_degree() -> None:
    formula = parse_formula("~ batch + cell_line * treatment")
    assert formula.intercept
    assert formula.terms == (
        ("batch",), ("cell_line",), ("treatment",), ("cell_line", "treatment"),
    )  # fmt: skip
    assert parse_formula("~ a:b + b + a").terms == (("b",), ("a",), ("a", "b"))
    assert not parse_formula("~ 0 + group").intercept
    assert not parse_formula("~ group - 1").intercept


@pytest.mark.parametrize(
    "text", ["cell_line + treatment", "~ log(x)", "~ (a + b):c", "~ a - b", "~"]
)
def test_unsupported_formulas_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match=r"deseq2\.design"):
        parse_formula(text)


# --- design matrices vs R's model.matrix --------------------------------------------------


def _r_matrix(path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, **kwargs)


@pytest.mark.parametrize(
    ("fixture", "design", "refs"),
    [
        ("interaction_sim", "~ cell_line + treatment + cell_line:treatment",
         {"cell_line": "sensitive", "treatment": "vehicle"}),
        ("marioni2008", "~ run + tissue", {"run": "R1", "tissue": "Kidney"}),
    ],
)  # fmt: skip
def test_design_matrix_equals_r_model_matrix(fixture: str, design: str, refs: dict) -> None:
    samples = pd.read_csv(DATA / fixture / "samples.tsv", sep="\t", dtype=str).set_index("sample")
    ours = build_design(parse_formula(design), samples, refs).matrix(samples)
    theirs = pd.read_csv(GOLDEN / fixture / "r_design_matrix.tsv", sep="\t", index_col=0)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.to_numpy(), theirs.loc[ours.index].to_numpy())


@pytest.mark.parametrize(
    ("design", "file", "expected_columns"),
    [
        ("~ condition + group:condition", "r_design_matrix_condition+group_condition.csv",
         ["Intercept", "condition[T.B]", "condition[A]:group[T.Y]", "condition[B]:group[T.Y]"]),
        ("~ group + condition:group", "r_design_matrix_group_condition+group.csv",
         ["Intercept", "group[T.Y]", "group[X]:condition[T.B]", "group[Y]:condition[T.B]"]),
    ],
)  # fmt: skip
def test_nested_designs_follow_r_coding(design: str, file: str, expected_columns: list) -> None:
    """Interaction without its main effect: R codes the factor with one column per level."""
    samples = pd.read_csv(DATA / "pydeseq2" / "test_metadata.csv", index_col=0, dtype=str)
    ours = build_design(parse_formula(design), samples, {"condition": "A", "group": "X"})
    assert list(ours.columns) == expected_columns
    theirs = pd.read_csv(DATA / "pydeseq2" / "interactions" / file, index_col=0)
    np.testing.assert_array_equal(ours.matrix(samples).to_numpy(), theirs.to_numpy())


def test_reference_level_comes_first_and_other_levels_sort() -> None:
    samples = _two_by_two()
    design = build_design(
        parse_formula("~ cell_line * treatment"), samples,
        {"cell_line": "sensitive", "treatment": "vehicle"},
    )  # fmt: skip
    assert design.levels["cell_line"] == ("sensitive", "resistant")
    assert design.columns == (
        "Intercept", "cell_line[T.resistant]", "treatment[T.sorafenib]",
        "cell_line[T.resistant]:treatment[T.sorafenib]",
    )  # fmt: skip


# --- the shipped contrasts -------------------------------------------------------------------


def test_shipped_contrasts_resolve_to_the_expected_vectors(shipped: dict) -> None:
    report = preflight(_two_by_two(), shipped["deseq2"], shipped["contrasts"])
    vectors = {name: c.vector for name, c in report.contrasts.items()}
    # columns: Intercept, cell_line[T.resistant], treatment[T.sorafenib], interaction
    assert vectors == {
        "resistant_vs_sensitive": (0, 1, 0, 0),
        "sorafenib_vs_vehicle_in_sensitive": (0, 0, 1, 0),
        "sorafenib_vs_vehicle_in_resistant": (0, 0, 1, 1),
        "sorafenib_response_resistant_vs_sensitive": (0, 0, 0, 1),
        # an LRT reports the last coefficient's log2 fold change, as R does
        "interaction_lrt": (0, 0, 0, 1),
    }
    lrt = report.contrasts["interaction_lrt"]
    assert lrt.test == "LRT" and lrt.reduced is not None
    assert lrt.reduced.formula.text == "~ cell_line + treatment"
    words = report.contrasts["resistant_vs_sensitive"].description
    assert words.startswith(
        "log2FC > 0 means higher in cell_line=resistant than in cell_line=sensitive"
    )
    assert "treatment=vehicle" in words
    table = report.contrasts_table()
    assert table.loc["sorafenib_vs_vehicle_in_resistant", "coefficients"] == (
        "treatment[T.sorafenib];cell_line[T.resistant]:treatment[T.sorafenib]"
    )


def test_shrinkage_plans_say_when_a_relevel_is_needed(shipped: dict) -> None:
    contrasts = preflight(_two_by_two(), shipped["deseq2"], shipped["contrasts"]).contrasts
    plain = contrasts["sorafenib_vs_vehicle_in_sensitive"].shrinkage
    assert plain is not None and not plain.relevelled
    relevel = contrasts["sorafenib_vs_vehicle_in_resistant"].shrinkage
    assert relevel is not None and relevel.relevelled
    assert relevel.coefficient == "treatment[T.sorafenib]"
    assert relevel.reference_levels == {"cell_line": "resistant", "treatment": "vehicle"}


def test_missing_at_means_reference_level_and_is_said_in_words() -> None:
    report = preflight(
        _two_by_two(),
        {"design": "~ cell_line * treatment"},
        {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive"}},
    )
    assert "treatment=vehicle (reference level)" in report.contrasts["x"].description


def test_at_on_a_non_interacting_factor_is_flagged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        report = preflight(
            _two_by_two(),
            {"design": "~ cell_line + treatment"},
            {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                   "at": {"treatment": "sorafenib"}}},
        )  # fmt: skip
    assert "no cell_line:treatment interaction" in report.contrasts["x"].description
    assert "no cell_line:treatment interaction" in caplog.text


def test_combination_versus_sum_of_single_drugs() -> None:
    rows = [(f"{g}_{r}", g) for g in ("vehicle", "drugA", "drugB", "combo") for r in (1, 2, 3)]
    samples = pd.DataFrame(rows, columns=["sample", "group"]).set_index("sample", drop=False)
    spec = {
        "combo_vs_vehicle": {"factor": "group", "numerator": "combo", "denominator": "vehicle"},
        "a_vs_vehicle": {"factor": "group", "numerator": "drugA", "denominator": "vehicle"},
        "b_vs_vehicle": {"factor": "group", "numerator": "drugB", "denominator": "vehicle"},
        "synergy": {"combine": [
            {"contrast": "combo_vs_vehicle", "weight": 1},
            {"contrast": "a_vs_vehicle", "weight": -1},
            {"contrast": "b_vs_vehicle", "weight": -1},
        ]},
    }  # fmt: skip
    report = preflight(
        samples, {"design": "~ group", "reference_levels": {"group": "vehicle"}}, spec
    )
    synergy = report.contrasts["synergy"]
    assert report.design.columns == (
        "Intercept",
        "group[T.combo]",
        "group[T.drugA]",
        "group[T.drugB]",
    )
    assert synergy.vector == (0, 1, -1, -1)
    assert synergy.shrinkage is None and "not a single model coefficient" in synergy.shrink_note
    # a drug-A vs drug-B contrast is one coefficient after re-levelling group to drugB
    ab = preflight(
        samples,
        {"design": "~ group", "reference_levels": {"group": "vehicle"}},
        {"ab": {"factor": "group", "numerator": "drugA", "denominator": "drugB"}},
    )
    plan = ab.contrasts["ab"].shrinkage
    assert plan is not None and plan.reference_levels == {"group": "drugB"}


def test_study_cutoffs_are_expressible_as_written() -> None:
    spec = {
        "study1": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                   "padj": 0.03, "fold_change": 3},
        "study2": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                   "pvalue": 0.05, "log2fc": 1},
    }  # fmt: skip
    contrasts = preflight(_two_by_two(), {}, spec).contrasts
    one, two = contrasts["study1"].thresholds, contrasts["study2"].thresholds
    assert one.padj == 0.03 and math.isclose(one.log2fc, math.log2(3)) and one.alpha == 0.1
    assert two.pvalue == 0.05 and two.log2fc == 1
    assert one.describe() == "padj < 0.03 and |log2FC| > 1.585 (fold change > 3)"
    assert two.describe() == "pvalue < 0.05 and |log2FC| > 1 (fold change > 2)"


def test_expert_vector() -> None:
    report = preflight(
        _two_by_two(), {}, {"v": {"vector": {"cell_line[T.resistant]:treatment[T.sorafenib]": 1}}}
    )
    assert report.contrasts["v"].vector == (0, 0, 0, 1)
    with pytest.raises(ConfigError, match=r"not a design coefficient.*cell_line\[T\.resistant\]"):
        preflight(_two_by_two(), {}, {"v": {"vector": {"cell_line_resistant": 1}}})


def test_lrt_contrast_resolves_to_the_dropped_coefficients() -> None:
    report = preflight(
        _two_by_two(), {}, {"interaction": {"test": "LRT", "reduced": "~ cell_line + treatment"}}
    )
    contrast = report.contrasts["interaction"]
    assert contrast.test == "LRT" and contrast.kind == "lrt"
    assert contrast.reduced is not None
    assert contrast.reduced.columns == contrast.columns[:3]
    assert contrast.vector == (0, 0, 0, 1)  # log2FC: the last coefficient, as R reports it
    assert contrast.shrinkage is None
    assert "1 df: cell_line[T.resistant]:treatment[T.sorafenib]" in contrast.description
    table = report.contrasts_table()
    assert table.loc["interaction", "test"] == "LRT"
    assert table.loc["interaction", "reduced"] == "~ cell_line + treatment"


# --- pre-flight errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deseq2", "contrasts", "message"),
    [
        ({"design": "~ genotype"}, {}, "'genotype' not a column of the sample sheet"),
        ({"reference_levels": {"cell_line": "parental"}}, {},
         "'parental' is not a level of 'cell_line'.*levels: resistant, sensitive"),
        ({}, {"x": {"factor": "treatment", "numerator": "sorafenib", "denominator": "dmso"}},
         "contrasts.x.denominator: level 'dmso' of 'treatment'.*levels present: "
         "vehicle, sorafenib"),
        ({}, {"x": {"factor": "dose", "numerator": "1", "denominator": "0"}},
         "'dose' is not a factor of the design"),
        ({}, {"x": {"difference": ["y", "z"]}}, "'y' is not a contrast name"),
        ({}, {"x": {"difference": ["x", "x"]}}, "refers to itself"),
        ({}, {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                    "alpha": 1.5}}, "contrasts.x.alpha"),
        ({}, {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                    "alt_hypothesis": "bigger"}}, "alt_hypothesis"),
        ({"exclude_samples": ["nope"]}, {}, "'nope' are not in the sample sheet"),
        ({}, {"bad-name": {"factor": "cell_line", "numerator": "resistant",
                           "denominator": "sensitive"}}, "not a valid contrast name"),
        ({}, {"x": {"test": "LRT"}}, r"contrasts.x.reduced: test: LRT needs a reduced design"),
        ({}, {"x": {"test": "LRT", "reduced": "~ cell_line + batch"}},
         r"contrasts.x.reduced: 'batch' is not in the design"),
        ({"design": "~ cell_line + treatment"},
         {"x": {"test": "LRT", "reduced": "~ cell_line + treatment"}},
         "not nested in and smaller than"),
        ({}, {"x": {"test": "LRT", "reduced": "~ 1", "factor": "cell_line"}},
         "a test: LRT contrast has a 'reduced' formula instead of 'factor'"),
        ({}, {"x": {"test": "lrt", "reduced": "~ 1"}}, r"contrasts.x.test: 'lrt'"),
        ({}, {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                    "reduced": "~ 1"}}, "only a contrast with test: LRT"),
    ],
)  # fmt: skip
def test_preflight_errors_name_the_key_and_the_fix(
    deseq2: dict, contrasts: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        preflight(_two_by_two(), deseq2, contrasts)


def test_confounded_design_names_the_columns() -> None:
    samples = _two_by_two()
    samples["batch"] = np.where(samples["cell_line"] == "resistant", "b2", "b1")
    with pytest.raises(
        ConfigError, match=r"not full rank.*cell_line\[T.resistant\] = 1 x batch\[T.b2\]"
    ):
        preflight(samples, {"design": "~ batch + cell_line"}, {})


def test_missing_group_makes_an_empty_interaction_column() -> None:
    samples = _two_by_two().iloc[:9]  # no resistant + sorafenib sample
    with pytest.raises(ConfigError, match="is 0 for every sample"):
        preflight(samples, {}, {})


def test_zero_residual_degrees_of_freedom_is_an_error() -> None:
    with pytest.raises(ConfigError, match="0 residual degrees of freedom"):
        preflight(_two_by_two(replicates=1), {}, {})


def test_single_replicate_is_a_warning() -> None:
    samples = _two_by_two().drop(index=["resistant_sorafenib_2", "resistant_sorafenib_3"])
    report = preflight(samples, {}, {})
    assert any("only 1 replicate" in w and "resistant" in w for w in report.warnings)


def test_continuous_covariates_must_be_numbers() -> None:
    samples = _two_by_two()
    samples["age"] = [str(30 + i) for i in range(len(samples))]
    report = preflight(samples, {"design": "~ age + cell_line", "continuous": ["age"]}, {})
    assert report.design.columns == ("Intercept", "age", "cell_line[T.resistant]")
    samples.iloc[3, samples.columns.get_loc("age")] = "old"
    with pytest.raises(
        ConfigError, match=r"'age'.*not a number for sample 'sensitive_sorafenib_1'"
    ):
        preflight(samples, {"design": "~ age + cell_line", "continuous": ["age"]}, {})


def test_per_contrast_exclusion_gets_its_own_fit() -> None:
    report = preflight(
        _two_by_two(), {},
        {"x": {"factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
               "exclude": ["resistant_vehicle_1"]}},
    )  # fmt: skip
    contrast = report.contrasts["x"]
    assert contrast.own_fit and len(contrast.samples) == 11
    assert "resistant_vehicle_1" not in contrast.samples
