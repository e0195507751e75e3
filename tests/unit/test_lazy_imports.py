"""A DE job does not execute matplotlib's pyplot, which pyDESeq2 imports and never needs here.

Deferred with the standard library's LazyLoader (:mod:`redoxseq.lazy`); a process that does
use pyplot after the DE modules (a test session, a figure module) must still get the real one.
"""

import json
import subprocess
import sys

_PROBE = """
import importlib.util, json, sys
import redoxseq.de.fit, redoxseq.de.inference, pydeseq2.dds, pydeseq2.ds
lazy = type(sys.modules["matplotlib.pyplot"]) is importlib.util._LazyModule
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
figure = plt.figure()
print(json.dumps({
    "deferred": lazy,
    "figure": type(figure).__name__,
    "same": sys.modules["matplotlib.pyplot"] is plt and matplotlib.pyplot is plt,
}))
"""


def test_de_modules_defer_pyplot_and_a_later_user_gets_the_real_module() -> None:
    run = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"deferred": True, "figure": "Figure", "same": True}


def test_pyplot_imported_before_the_de_modules_is_left_alone() -> None:
    probe = (
        "import importlib.util, sys, matplotlib.pyplot, redoxseq.de.fit; "
        "print(type(sys.modules['matplotlib.pyplot']) is importlib.util._LazyModule)"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
