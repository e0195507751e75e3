"""A job's log holds the job's own records, not its libraries' working notes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_JOB = """
import logging, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from redoxseq.logs import setup_logging
setup_logging(sys.argv[1])
logging.getLogger("redoxseq.plots").info("drawing the volcano")
figure, axes = plt.subplots()
axes.set_title("Txnrd1 and Hmox1 up")
plt.rcParams["pdf.fonttype"] = 42  # embeds a subset of the font: fontTools logs at INFO
figure.savefig(sys.argv[2])
logging.getLogger("fontTools").warning("a font problem the user should see")
"""


def test_font_subsetting_notes_stay_out_of_the_job_log(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    result = subprocess.run(
        [sys.executable, "-c", _JOB, str(log), str(tmp_path / "volcano.pdf")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any("INFO redoxseq.plots: drawing the volcano" in line for line in lines)
    assert [line for line in lines if "fontTools" in line] == [
        line for line in lines if "WARNING fontTools: a font problem the user should see" in line
    ]
    assert len(lines) == 2, lines
    assert "fontTools.subset" not in result.stderr
