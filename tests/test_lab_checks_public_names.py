"""Each `dlkit.lab_checks` module exposes only its checks and the helpers its lab calls: never a reference.

One table for every lab module; the answer keys (`_reference_*`, `_*_mistakes`) stay private, so a student
cannot call them (and the answer guard refuses them anyway).
"""

import importlib
import types

import pytest

from dlkit.lab_checks import expect

PUBLIC = {
    "activation_functions": {
        "check_activations",
        "check_dead_relu_counter",
        "check_layer_gradient_norms",
        "check_maxout",
        "check_moments_through_depth",
        "check_prelu",
        "check_summarize_runs",
        "gradcheck_your_derivative",
    },
    "batch_normalization": {
        "check_batchnorm_backward",
        "check_batchnorm_backward_alt",
        "check_batchnorm_forward",
        "check_my_batch_norm",
        "check_running_averages",
        "gradcheck_your_backward",
    },
    "cnn": {
        "check_conv_forward",
        "check_conv_single_step",
        "check_digits_cnn",
        "check_pool_forward",
    },
    "gradient_checking": {
        "check_backward",
        "check_l2_gradient",
        "check_relative_difference",
        "check_two_sided_difference",
        "network_case",
        "your_gradcheck_difference",
        "your_gradients",
    },
    "hyperparameter_tuning": {
        "check_narrow_log_range",
        "check_sample_beta",
        "check_sample_log_uniform",
    },
    "initialization": {
        "check_he_init",
        "check_random_init",
        "check_xavier_init",
        "check_zeros_init",
    },
    "learning_rate_schedules": {
        "check_average_predictions",
        "check_linear_warmup",
        "check_snapshot_lr",
        "check_triangular_clr",
    },
    "optimization": {
        "check_adam_step",
        "check_adamw_step",
        "check_ewma",
        "check_learning_rate_decay",
        "check_momentum_step",
        "check_random_mini_batches",
        "check_rmsprop_step",
    },
    "preprocessing_and_regularization": {
        "PREPROCESS_MODES",
        "check_cutout",
        "check_drop_connect",
        "check_dropout",
        "check_elastic_net",
        "check_mixup",
        "check_preprocess",
        "check_stochastic_depth",
        "fix_signs",
    },
    "regularization": {
        "check_augmentation",
        "check_early_stopping_callback",
        "check_early_stopping_epoch",
        "check_inverted_dropout",
        "check_keras_l2",
        "check_l2_cost",
    },
    "softmax": {
        "check_cross_entropy",
        "check_cross_entropy_gradient",
        "check_gradient_descent_step",
        "check_softmax",
        "check_softmax_regression",
        "gradcheck_your_gradient",
    },
    "tensorflow_and_backprop": {
        "check_backprop_by_hand",
        "check_binary_cross_entropy",
        "check_binary_cross_entropy_from_logits",
        "check_categorical_cross_entropy",
        "check_categorical_cross_entropy_from_logits",
        "check_compute_total_loss",
        "check_engine",
        "check_forward_propagation",
        "check_initialize_parameters",
        "check_kl_divergence",
        "check_linear_regression_gd",
        "check_mse",
        "check_multiclass_svm_loss",
        "check_one_hot_matrix",
        "check_tape_gradients",
        "check_train_logistic_regression",
        "check_train_step",
        "engine_gradients",
        "random_expression",
    },
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_only_the_checks_and_the_helpers_the_lab_calls(module):
    checks = importlib.import_module(f"dlkit.lab_checks.{module}")
    imported = {name for name in dir(expect) if not name.startswith("_")}
    public = {
        name
        for name in dir(checks)
        if not name.startswith("_")
        and name not in imported
        and not isinstance(getattr(checks, name), types.ModuleType)
    }
    assert public == PUBLIC[module]


def test_every_lab_checks_module_is_in_the_table():
    import pkgutil

    import dlkit.lab_checks

    modules = {info.name for info in pkgutil.iter_modules(dlkit.lab_checks.__path__)} - {"expect"}
    assert modules == set(PUBLIC)
