"""featureCounts command-line options -> redoxseq CountOptions keywords (shared by the goldens)."""

from __future__ import annotations

from redoxseq.counting.types import MODES

#: featureCounts flags without a value, and the CountOptions keyword each sets.
FLAGS: dict[str, tuple[str, object]] = {
    "--largestOverlap": ("multi_overlap", "largest"),
    "-O": ("multi_overlap", "all"),
    "--fraction": ("multimapping", "fraction"),
    "--primary": ("primary_only", True),
    "--ignoreDup": ("ignore_duplicates", True),
    "-B": ("require_both_mapped", True),
    "-C": ("skip_chimeric", True),
}
#: featureCounts options that take an integer value, and their CountOptions keyword.
VALUED: dict[str, str] = {"-Q": "min_mapq", "--minOverlap": "min_overlap"}


def apply_option(words: list[str], i: int, kw: dict[str, object]) -> tuple[int, str | None] | None:
    """Apply the featureCounts option at ``words[i]`` to the keyword dict ``kw``.

    Returns
    -------
    tuple or None
        (index of the next option, strandedness mode if this option was ``-s`` else None), or
        None when the option is not one of the common ones (the caller handles it).
    """
    word = words[i]
    if word == "-s":
        return i + 2, MODES[int(words[i + 1])]
    if word in VALUED:
        kw[VALUED[word]] = int(words[i + 1])
        return i + 2, None
    if word == "-M":
        kw.setdefault("multimapping", "all")
        return i + 1, None
    if word in FLAGS:
        key, value = FLAGS[word]
        kw[key] = value
        return i + 1, None
    return None
