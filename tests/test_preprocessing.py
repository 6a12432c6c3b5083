"""dlkit.preprocessing against NumPy formulas written here and scikit-learn."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from dlkit.preprocessing import PCAWhitening, Standardizer


def _data(seed=0, m=200):
    rng = np.random.default_rng(seed)
    mixing = np.array([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [0.3, -0.2, 0.1]])
    return rng.normal(size=(m, 3)) @ mixing + np.array([5.0, -3.0, 10.0])


def test_standardizer_equals_sklearn_standard_scaler_and_uses_training_statistics():
    x_train, x_test = _data(0), _data(1, m=50)
    ours = Standardizer(epsilon=0.0).fit(x_train)
    sklearn = StandardScaler().fit(x_train)
    np.testing.assert_allclose(ours.transform(x_test), sklearn.transform(x_test), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(x_train).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ours.transform(x_train).std(axis=0), 1.0, atol=1e-12)
    # The test set's own statistics would centre it exactly; the training ones do not.
    assert np.abs(ours.transform(x_test).mean(axis=0)).max() > 1e-3


def test_standardizer_center_scale_and_epsilon():
    x = _data(2)
    np.testing.assert_allclose(Standardizer(scale=False).fit_transform(x), x - x.mean(axis=0))
    np.testing.assert_allclose(
        Standardizer(center=False, epsilon=0.5).fit_transform(x), x / (x.std(axis=0) + 0.5)
    )
    constant = np.ones((5, 2))
    assert np.all(np.isfinite(Standardizer().fit_transform(constant)))


def _numpy_whitening(x_train, x, mode, epsilon):
    mean = x_train.mean(axis=0)
    cov = (x_train - mean).T @ (x_train - mean) / len(x_train)
    U, S, _ = np.linalg.svd(cov)
    rotated = (x - mean) @ U
    pca = rotated / np.sqrt(S + epsilon)
    return {"decorrelate": rotated, "pca": pca, "zca": pca @ U.T}[mode], U


@pytest.mark.parametrize("mode", ["decorrelate", "pca", "zca"])
def test_pca_whitening_equals_the_numpy_formula_up_to_component_signs(mode):
    x_train, x_test = _data(3), _data(4, m=40)
    ours = PCAWhitening(mode=mode, epsilon=1e-3).fit(x_train)
    expected, U = _numpy_whitening(x_train, x_test, mode, 1e-3)
    signs = np.sign(np.sum(ours.components_ * U, axis=0))  # each eigenvector is defined up to its sign
    got = ours.transform(x_test)
    if mode != "zca":  # ZCA rotates back: the signs cancel
        got = got * signs
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_pca_whitening_equals_sklearn_pca_whiten_up_to_sign_and_ddof():
    x_train, x_test = _data(5), _data(6, m=30)
    m = len(x_train)
    ours = PCAWhitening(mode="pca", epsilon=0.0).fit(x_train).transform(x_test)
    sklearn = PCA(whiten=True).fit(x_train).transform(x_test) * np.sqrt(m / (m - 1))
    signs = np.sign(np.sum(ours * sklearn, axis=0))
    np.testing.assert_allclose(ours * signs, sklearn, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("mode", ["pca", "zca"])
def test_whitened_training_data_has_identity_covariance(mode):
    x = _data(7)
    white = PCAWhitening(mode=mode, epsilon=0.0).fit_transform(x)
    np.testing.assert_allclose(white.T @ white / len(x), np.eye(3), atol=1e-9)


def test_decorrelated_covariance_is_diagonal_with_decreasing_eigenvalues():
    x = _data(8)
    whitening = PCAWhitening(mode="decorrelate").fit(x)
    rotated = whitening.transform(x)
    cov = rotated.T @ rotated / len(x)
    np.testing.assert_allclose(cov, np.diag(whitening.eigenvalues_), atol=1e-9)
    assert np.all(np.diff(whitening.eigenvalues_) <= 0)


def test_config_round_trip():
    for transform in (Standardizer(center=False, epsilon=1e-3), PCAWhitening(mode="pca", epsilon=0.1)):
        copy = type(transform).from_config(transform.get_config())
        assert copy.get_config() == transform.get_config()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: PCAWhitening(mode="svd"),
            r"`mode` must be one of 'pca', 'zca', 'decorrelate'\. Received: mode='svd'",
        ),
        (lambda: PCAWhitening(epsilon=-1.0), r"`epsilon` must be >= 0\.0\. Received: epsilon=-1\.0"),
        (lambda: Standardizer(center="yes"), r"`center` must be True or False\. Received: center='yes'"),
        (lambda: Standardizer().transform(np.ones((2, 2))), "not fitted yet"),
        (lambda: PCAWhitening().fit(np.ones(4)), r"`x` must have rank 2"),
        (lambda: PCAWhitening().fit(np.ones((3, 2))).transform(np.ones((3, 4))), "must have 2 columns"),
        (
            lambda: PCAWhitening(mode="pca", epsilon=0.0).fit(np.ones((3, 2))).transform(np.ones((3, 2))),
            "`epsilon` must be > 0 when the training covariance is singular",
        ),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()
