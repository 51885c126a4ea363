"""Evaluation metrics: pure functions over features, images, likelihoods, clusterings and codes."""

from genvision.eval.clustering import (
    cluster_accuracy,
    contingency_matrix,
    hungarian_accuracy,
    majority_vote_accuracy,
    normalized_mutual_info,
)
from genvision.eval.codebook import CodebookStats, codebook_stats
from genvision.eval.frechet import FeatureStats, frechet_distance, frechet_distance_features, gaussian_stats
from genvision.eval.kid import KIDResult, kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from genvision.eval.likelihood import (
    LikelihoodReport,
    approx_standard_normal_cdf,
    bernoulli_nll,
    bits_per_dim,
    categorical_nll,
    discretized_gaussian_log_likelihood,
    discretized_logistic_log_likelihood,
    importance_weighted_nll,
    likelihood_report,
    nats_from_bits_per_dim,
)
from genvision.eval.precision_recall import PrecisionRecall, inside_manifold, knn_radii, precision_recall
from genvision.eval.reconstruction import gaussian_window, mse, psnr, ssim
from genvision.eval.table import format_table, format_value

__all__ = [
    "CodebookStats",
    "FeatureStats",
    "KIDResult",
    "LikelihoodReport",
    "PrecisionRecall",
    "approx_standard_normal_cdf",
    "bernoulli_nll",
    "bits_per_dim",
    "categorical_nll",
    "cluster_accuracy",
    "codebook_stats",
    "contingency_matrix",
    "discretized_gaussian_log_likelihood",
    "discretized_logistic_log_likelihood",
    "format_table",
    "format_value",
    "frechet_distance",
    "frechet_distance_features",
    "gaussian_stats",
    "gaussian_window",
    "hungarian_accuracy",
    "importance_weighted_nll",
    "inside_manifold",
    "kernel_inception_distance",
    "knn_radii",
    "likelihood_report",
    "majority_vote_accuracy",
    "mmd2_unbiased",
    "mse",
    "nats_from_bits_per_dim",
    "normalized_mutual_info",
    "polynomial_kernel",
    "precision_recall",
    "psnr",
    "ssim",
]
