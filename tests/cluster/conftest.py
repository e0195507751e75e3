"""A real single-node SLURM cluster for the tests in this folder, started once per session.

Without the SLURM and munge binaries the tests that need the cluster skip, naming what is
missing and how to install it; with them, a cluster that does not come up is a test failure
that carries the daemons' logs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.cluster.slurm import SlurmCluster, missing_binaries


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """munged + slurmctld + slurmd on this host, in a temporary directory; stopped at the end."""
    missing = missing_binaries()
    if missing:
        pytest.skip(
            f"SLURM is not installed (missing {', '.join(missing)}): the cluster-profile tests "
            "need Debian's slurm-wlm and munge; install them with `sudo .ci/slurm-setup.sh`"
        )
    if os.geteuid() != 0:
        pytest.skip(
            "the cluster-profile tests start slurmd, which must run as root (it starts jobs as "
            "their owner and mounts its configuration in a private namespace); run them as root"
        )
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
    except (RuntimeError, OSError, TimeoutError) as error:
        cluster.stop()
        pytest.fail(
            f"SLURM is installed but the test cluster did not start: {error}\n"
            f"slurm.conf: {cluster.conf}\n{cluster.logs()}",
            pytrace=False,
        )
    try:
        yield cluster
    finally:
        cluster.stop()
