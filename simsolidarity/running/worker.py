"""What the server of a local sweep's worker processes loads once, before it forks the workers.

The sweep machinery, and the model's compiled kernels: a tiny model is built and stepped, with and
without a feed bias, so that numba is imported and every kernel a run uses is loaded from its disk
cache in the server (about half a second). Each worker forked from it starts with them, instead of
paying that half second itself at every sweep.
"""

from __future__ import annotations

from simsolidarity.model.model import SolidarityModel
from simsolidarity.running.sweep import compute_run  # noqa: F401 - loaded for the workers, which run it

#: A population just large enough to take every path of a step (blocks, virtual groups, local ties).
TINY = {"n_people": 30, "width": 6, "height": 6, "block_size": 3, "n_virtual_groups": 3}


def load_kernels() -> None:
    """Build and step a tiny model with and without a feed bias: every kernel of a step is then loaded."""
    for feed_bias in (0.0, 1.0):
        SolidarityModel(TINY, rng=0, feed_bias=feed_bias).step()


load_kernels()
