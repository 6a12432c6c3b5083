"""Hyperparameter tuning: samplers on the right scale, coarse-to-fine narrowing, and distributed keras-tuner search."""

from dlkit.tuning.coarse_to_fine import narrow_log_range
from dlkit.tuning.distributed_search import DistributedSearch
from dlkit.tuning.scales import sample_beta, sample_log_uniform

__all__ = ["DistributedSearch", "narrow_log_range", "sample_beta", "sample_log_uniform"]
