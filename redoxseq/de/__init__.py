"""Differential expression: design, one model fit, named contrasts, the batched engine.

- :mod:`~redoxseq.de.design`: formulas, reference levels, contrasts resolved and checked
  before any fit (the pre-flight);
- :mod:`~redoxseq.de.fit`: the DESeq2 model fitted once (pyDESeq2 with redoxseq's engine), the
  per-design tables, per-contrast results, the Excel workbook;
- :mod:`~redoxseq.de.inference`: the batched inference engine (IRLS, dispersions, Wald test),
  with the compiled dispersion kernel ``_dispersion_fast``.

Importing this package imports none of them (pyDESeq2 is loaded only by ``fit``/``inference``).
It defers matplotlib's ``pyplot``, which pyDESeq2 imports at module level and a DE job never
uses (:mod:`redoxseq.lazy`).
"""

from redoxseq.lazy import defer_import

defer_import("matplotlib.pyplot")
