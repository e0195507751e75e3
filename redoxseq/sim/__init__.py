"""Test data: the deterministic simulator of the bundled sample experiment.

Imported by no stage of the workflow; used by ``python -m redoxseq.simulate``, the tests and
the benchmarks.
"""
