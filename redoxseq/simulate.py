"""``python -m redoxseq.simulate``: write the sample experiment (see :mod:`redoxseq.sim`)."""

from redoxseq.sim.experiment import main

if __name__ == "__main__":
    raise SystemExit(main())
