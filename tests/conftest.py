"""Shared test helpers."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from scipy import stats

#: A small population that still has several blocks, groups and local ties: quick to run.
SMALL = {"n_people": 400, "width": 25, "height": 25, "block_size": 5, "n_virtual_groups": 12}


def paired_ci(a: list[float], b: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of the paired differences ``a - b``."""
    interval = stats.ttest_rel(np.asarray(a, dtype=float), np.asarray(b, dtype=float)).confidence_interval(confidence)
    return float(interval.low), float(interval.high)


@pytest.fixture
def restore_start_method():
    """mesa.batch_run forces the process-wide 'spawn' start method; put the old one back afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)
