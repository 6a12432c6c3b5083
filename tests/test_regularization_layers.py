"""DropConnectDense, StochasticDepth and Cutout against NumPy formulas written here, finite differences
(dlkit.gradcheck, masks fixed by a seed), Keras's MixUp, and .keras save/load round trips.

Backend-neutral: tests/test_backends_suites.py runs this file under JAX and PyTorch too (the finite-difference
checks only on TensorFlow: `dlkit.gradcheck` is GradientTape-based)."""

import keras
import numpy as np
import pytest

from dlkit import gradcheck
from dlkit.layers import (
    Cutout,
    DropConnectDense,
    StochasticDepth,
    cutout_mask,
    drop_connect_dense,
    linear_decay_survival,
)

ON_TENSORFLOW = keras.backend.backend() == "tensorflow"


def _np(value, dtype=None):
    """A backend tensor or variable as a NumPy array (torch tensors that require grad included)."""
    array = keras.ops.convert_to_numpy(value)
    return array if dtype is None else array.astype(dtype)


def _round_trip(model, tmp_path, x):
    before = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)
    return loaded


# ----------------------------------------------------------------------------------------- DropConnectDense


def test_drop_connect_inference_is_the_dense_layer_with_the_expected_weights():
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    layer = DropConnectDense(3, rate=0.5, activation="relu", seed=1)
    y = _np(layer(x, training=False))
    W, b = (_np(v) for v in layer.weights)
    np.testing.assert_allclose(y, np.maximum(x @ W + b, 0.0), rtol=1e-5, atol=1e-6)


def test_drop_connect_training_masks_weights_with_the_seeded_mask():
    x = np.random.default_rng(1).normal(size=(6, 5)).astype("float32")
    layer, twin = DropConnectDense(4, rate=0.3, seed=3), DropConnectDense(4, rate=0.3, seed=3)
    layer.build(x.shape)
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    y = _np(layer(x, training=True))
    mask = _np(twin.weight_mask())  # the same seed: the same first mask
    assert set(np.unique(mask)) <= {0.0, 1.0}
    W, b = (_np(v) for v in layer.weights)
    np.testing.assert_allclose(y, x @ (W * mask / 0.7) + b, rtol=1e-5, atol=1e-5)
    # A fresh mask every call.
    assert not np.allclose(_np(layer(x, training=True)), y)


def test_drop_connect_output_mean_and_variance_match_the_formulas():
    rate, keep = 0.4, 0.6
    x = np.array([[1.0, -2.0, 0.5, 3.0]], dtype="float32")
    layer = DropConnectDense(2, rate=rate, seed=0, kernel_initializer="random_normal")
    layer.build(x.shape)
    W, b = (_np(v, dtype=np.float64) for v in layer.weights)
    outputs = np.array([_np(layer(x, training=True))[0] for _ in range(3000)])
    mean = x[0] @ W + b
    variance = (1 - keep) / keep * (x[0] ** 2) @ (W**2)
    standard_error = np.sqrt(variance / len(outputs))
    assert np.all(np.abs(outputs.mean(axis=0) - mean) < 5 * standard_error)
    np.testing.assert_allclose(outputs.var(axis=0), variance, rtol=0.1)


@pytest.mark.skipif(not ON_TENSORFLOW, reason="dlkit.gradcheck is GradientTape-based (TensorFlow backend)")
def test_drop_connect_gradients_pass_gradcheck_with_a_fixed_mask():
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    mask = (rng.uniform(size=(5, 3)) >= 0.5).astype(np.float64)

    def cost(x, W, b):
        return keras.ops.sum(keras.ops.tanh(drop_connect_dense(x, W, b, mask, 0.5)) ** 2)

    report = gradcheck.gradcheck(cost, [x, W, b], names=["x", "W", "b"])
    assert report.passed, str(report)


def test_drop_connect_trains_in_fit_and_saves(tmp_path):
    x = np.random.default_rng(3).normal(size=(32, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")[:, None]
    model = keras.Sequential(
        [keras.Input((6,)), DropConnectDense(8, rate=0.5, activation="relu", seed=0), keras.layers.Dense(1)]
    )
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    loaded = _round_trip(model, tmp_path, x)
    assert loaded.layers[0].get_config() == model.layers[0].get_config()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0}, r"`units` must be >= 1\. Received: units=0"),
        ({"units": 2, "rate": 1.0}, r"`rate` must be < 1\.0\. Received: rate=1\.0"),
        ({"units": 2, "seed": -1}, r"`seed` must be >= 0\. Received: seed=-1"),
    ],
)
def test_drop_connect_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DropConnectDense(**kwargs)


# ----------------------------------------------------------------------------------------- StochasticDepth


def test_linear_decay_survival_is_huang_et_al_eq_4():
    np.testing.assert_allclose(linear_decay_survival(4, 0.5), [0.875, 0.75, 0.625, 0.5])
    np.testing.assert_allclose(linear_decay_survival(54, 0.5)[-1], 0.5)
    with pytest.raises(ValueError, match=r"`final_survival_prob` must be > 0\.0"):
        linear_decay_survival(3, 0.0)


def test_stochastic_depth_inference_scales_the_residual_and_training_keeps_or_drops_it():
    rng = np.random.default_rng(4)
    shortcut, residual = rng.normal(size=(3, 5)).astype("float32"), rng.normal(size=(3, 5)).astype("float32")
    layer = StochasticDepth(0.7, seed=0)
    np.testing.assert_allclose(
        layer([shortcut, residual], training=False), shortcut + 0.7 * residual, rtol=1e-6
    )
    kept = []
    for _ in range(2000):
        y = _np(layer([shortcut, residual], training=True))
        on = np.allclose(y, shortcut + residual, atol=1e-6)
        assert on or np.allclose(y, shortcut, atol=1e-6)  # the whole block, for the whole batch
        kept.append(on)
    assert abs(np.mean(kept) - 0.7) < 6 * np.sqrt(0.7 * 0.3 / 2000)


def test_stochastic_depth_gradcheck_and_fit_and_save(tmp_path):
    inputs = keras.Input((4,))
    residual = keras.layers.Dense(4, activation="tanh")(inputs)
    outputs = keras.layers.Dense(1)(StochasticDepth(0.5, seed=1)([inputs, residual]))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    x = np.random.default_rng(5).normal(size=(16, 4)).astype("float32")
    model.fit(x, x[:, :1], epochs=2, verbose=0)  # draws inside the compiled train step
    _round_trip(model, tmp_path, x)
    if not ON_TENSORFLOW:
        return  # dlkit.gradcheck is GradientTape-based; the fit and the round trip above ran on this backend
    # Inference is deterministic and differentiable: finite differences agree.
    layer = StochasticDepth(0.3, dtype="float64")
    report = gradcheck.gradcheck(
        lambda a, r: keras.ops.sum(keras.ops.sin(layer([a, r], training=False))),
        [x[:3].astype("float64"), x[3:6].astype("float64")],
    )
    assert report.passed, str(report)


def test_stochastic_depth_bad_arguments():
    with pytest.raises(ValueError, match=r"`survival_prob` must be > 0\.0\. Received: survival_prob=0"):
        StochasticDepth(0)
    with pytest.raises(ValueError, match="same shape"):
        StochasticDepth(0.5)([np.ones((2, 3)), np.ones((2, 4))])


# ----------------------------------------------------------------------------------------- Cutout


def _paper_mask(h, w, cy, cx, length):
    """uoguelph-mlrg/Cutout's `Cutout.__call__`, for one hole."""
    mask = np.ones((h, w), np.float32)
    y1, y2 = np.clip(cy - length // 2, 0, h), np.clip(cy + length // 2, 0, h)
    x1, x2 = np.clip(cx - length // 2, 0, w), np.clip(cx + length // 2, 0, w)
    mask[y1:y2, x1:x2] = 0.0
    return mask


def test_cutout_mask_equals_the_authors_code_for_even_sizes():
    centers = np.array([[0, 0], [3, 4], [7, 7], [5, 1]])
    got = _np(cutout_mask(8, 8, centers, 4))
    for i, (cy, cx) in enumerate(centers):
        np.testing.assert_array_equal(got[i], _paper_mask(8, 8, cy, cx, 4))


def test_cutout_layer_erases_one_square_per_image_in_training_only(tmp_path):
    images = np.ones((400, 8, 8, 2), "float32")
    layer = Cutout(4, fill_value=-1.0, seed=0)
    np.testing.assert_array_equal(layer(images, training=False), images)
    out = _np(layer(images, training=True))
    assert set(np.unique(out)) == {-1.0, 1.0}
    np.testing.assert_array_equal(out[..., 0], out[..., 1])  # all channels
    erased = out[..., 0] == -1.0
    rows, cols = erased.any(axis=2), erased.any(axis=1)
    assert np.all(erased.sum(axis=(1, 2)) == rows.sum(axis=1) * cols.sum(axis=1))  # a rectangle
    assert rows.sum(axis=1).max() == 4 and cols.sum(axis=1).max() == 4
    # Centers uniform over the image: the erased pixels cover it evenly on average.
    coverage = erased.mean(axis=0)
    assert coverage[2:6, 2:6].mean() > coverage[0, 0]
    model = keras.Sequential([keras.Input((8, 8, 2)), layer])
    _round_trip(model, tmp_path, images[:2])


def test_cutout_bad_arguments():
    with pytest.raises(ValueError, match=r"`size` must be >= 1\. Received: size=0"):
        Cutout(0)
    with pytest.raises(ValueError, match="must be 4-D images"):
        Cutout(2)(np.ones((2, 3)), training=True)


# ----------------------------------------------------------------------------------------- keras.layers.MixUp


def test_keras_mixup_is_zhang_et_al_convex_combination_of_images_and_labels():
    rng = np.random.default_rng(6)
    images, labels = rng.uniform(size=(4, 3, 3, 1)), np.eye(4)[[0, 1, 2, 3]]
    lam, order = np.array([0.1, 0.5, 0.9, 0.3]), np.array([2, 0, 3, 1])
    layer = keras.layers.MixUp(alpha=0.2)
    transformation = {"mix_weight": lam, "permutation_order": order}
    mixed_images = _np(layer.transform_images(images, transformation))
    mixed_labels = _np(layer.transform_labels(labels, transformation))
    np.testing.assert_allclose(
        mixed_images,
        lam[:, None, None, None] * images + (1 - lam[:, None, None, None]) * images[order],
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        mixed_labels, lam[:, None] * labels + (1 - lam[:, None]) * labels[order], rtol=1e-6
    )
