"""dlkit's teaching layers and losses on Keras's backends (issue 22: JAX in the second slice, PyTorch in the third).

One script per backend runs in a fresh process under `KERAS_BACKEND=<backend>` (the backend is fixed at import)
and prints its results as JSON; the tests compare them with references that do not come from the code under
test: NumPy formulas written here, or the Keras built-in layer run on that same backend in that same script.

The hand-written gradients (`batch_norm_backward`, `softmax_cross_entropy_backward`) are checked twice:
- against references: the NumPy chain rule of batch norm in its long form (through mu and var, not the compact
  form the library uses) and the backend's own autodiff of a plain forward pass; `softmax(z) - y` for the loss;
- for being used at all: the script replaces the module-level backward function by one that returns 3 times
  its result (`dlkit.layers.batch_norm.batch_norm_backward = scaled`, the same for the loss) and asks the
  backend's gradient function (`jax.grad` on JAX, `tf.GradientTape` on TensorFlow, `torch.autograd.grad` on
  PyTorch) again. The custom-gradient
  wrappers look the backward function up when the gradient runs, so the gradient must triple. A backend that
  silently fell back to autodiff of the forward pass would return the unscaled gradient, and fail.

A backend that is not installed (PyTorch and JAX are optional extras) is skipped with the reason.
"""

import functools
import inspect
import textwrap

import keras
import numpy as np
import pytest
from backend_script import run_script

import dlkit._backend
import dlkit.layers
import dlkit.losses

BACKENDS = ["tensorflow", "jax", "torch"]
EPSILON, MOMENTUM, SCALE = 1e-3, 0.9, 3.0


def _inputs():
    rng = np.random.default_rng(0)
    f32 = lambda a: np.asarray(a, "float32")  # noqa: E731
    return {
        "bn_x": f32(rng.normal(1.0, 2.0, (8, 5))),
        "bn_gamma": f32(rng.uniform(0.5, 1.5, (1, 5))),
        "bn_beta": f32(rng.normal(size=(1, 5))),
        "bn_dy": f32(rng.normal(size=(8, 5))),
        "bn_images": f32(rng.normal(0.5, 1.5, (4, 3, 3, 2))),
        "bn_channel_gamma": f32(rng.uniform(0.5, 1.5, 2)),
        "bn_channel_beta": f32(rng.normal(size=2)),
        "logits": f32(rng.normal(0.0, 3.0, (6, 4))),
        "class_ids": rng.integers(0, 4, 6).tolist(),
        "ce_upstream": f32(rng.uniform(0.5, 1.5, 6)),
        "features": f32(rng.normal(size=(4, 6))),
        "feature_gamma": f32(rng.uniform(0.5, 1.5, 6)),
        "feature_beta": f32(rng.normal(size=6)),
        "images": f32(rng.normal(size=(2, 7, 7, 4))),
        "channel_gamma": f32(rng.uniform(0.5, 1.5, 4)),
        "channel_beta": f32(rng.normal(size=4)),
        "conv_kernel": f32(rng.normal(size=(3, 3, 4, 5))),
        "conv_bias": f32(rng.normal(size=5)),
        "maxout_kernel": f32(rng.normal(size=(6, 3 * 2))),
        "maxout_bias": f32(rng.normal(size=3 * 2)),
        "dense_kernel": f32(rng.normal(size=(6, 3))),
        "dense_bias": f32(rng.normal(size=3)),
        "cutout_centers": [[4, 4], [0, 6], [7, 1]],
        "fit_x": f32(rng.normal(size=(64, 4))),
    }


SCRIPT = (
    "import numpy as np\n"
    + inspect.getsource(_inputs)
    + textwrap.dedent(
        f"""
        import importlib, json, os, sys, tempfile
        import keras
        from keras import ops
        import dlkit.initializers, dlkit.layers, dlkit.losses, dlkit.optimizers

        # The modules, not the functions of the same name that the packages export.
        bn_module = importlib.import_module("dlkit.layers.batch_norm")
        ce_module = importlib.import_module("dlkit.losses.softmax_cross_entropy")

        backend = keras.backend.backend()
        out = {{"backend": backend, "tensorflow_imported": "tensorflow" in sys.modules}}
        data = _inputs()
        EPSILON, MOMENTUM, SCALE = {EPSILON}, {MOMENTUM}, {SCALE}


        def numpy(t):
            return np.asarray(ops.convert_to_numpy(t)).tolist()


        def gradients(f, *args):
            # The backend's own gradient function, not keras: that is the path a hand-written gradient must take.
            if backend == "jax":
                import jax

                return [numpy(g) for g in jax.grad(f, argnums=tuple(range(len(args))))(*args)]
            if backend == "torch":
                import torch

                args = [ops.convert_to_tensor(a).detach().requires_grad_(True) for a in args]
                return [numpy(g) for g in torch.autograd.grad(f(*args), args)]
            import tensorflow as tf

            args = [tf.convert_to_tensor(a) for a in args]
            with tf.GradientTape() as tape:
                tape.watch(args)
                value = f(*args)
            return [numpy(g) for g in tape.gradient(value, args)]


        # --- batch norm: the function's gradients, with and without the backward pass patched.
        dy = ops.convert_to_tensor(data["bn_dy"])
        bn_objective = lambda x, g, b: ops.sum(dy * bn_module.batch_norm(x, g, b, EPSILON, (0,))[0])
        bn_args = (data["bn_x"], data["bn_gamma"], data["bn_beta"])


        def plain_bn(x, g, b):  # the forward pass only, differentiated by the backend's autodiff
            mean = ops.mean(x, axis=0, keepdims=True)
            variance = ops.mean(ops.square(x - mean), axis=0, keepdims=True)
            return ops.sum(dy * (g * (x - mean) / ops.sqrt(variance + EPSILON) + b))


        out["bn_grads"] = gradients(bn_objective, *bn_args)
        out["bn_autodiff_grads"] = gradients(plain_bn, *bn_args)
        y, mean, variance = bn_module.batch_norm(*bn_args, EPSILON, (0,))
        out["bn_function"] = [numpy(y), numpy(mean), numpy(variance)]
        original_backward = bn_module.batch_norm_backward
        bn_module.batch_norm_backward = lambda upstream, cache: tuple(
            None if g is None else SCALE * g for g in original_backward(upstream, cache)
        )
        out["bn_grads_patched"] = gradients(bn_objective, *bn_args)
        bn_module.batch_norm_backward = original_backward

        # --- the BatchNorm layer against keras.layers.BatchNormalization: training (and moving stats), inference.
        ours = dlkit.layers.BatchNorm(momentum=MOMENTUM, epsilon=EPSILON)
        builtin = keras.layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON)
        for layer in (ours, builtin):
            layer.build(data["bn_images"].shape)
            layer.gamma.assign(data["bn_channel_gamma"])
            layer.beta.assign(data["bn_channel_beta"])
        out["bn_layer"] = {{
            name: {{
                "training": numpy(layer(data["bn_images"], training=True)),
                "moving_mean": numpy(layer.moving_mean),
                "moving_variance": numpy(layer.moving_variance),
                "inference": numpy(layer(data["bn_images"] * 2.0, training=False)),
            }}
            for name, layer in (("dlkit", ours), ("keras", builtin))
        }}

        # --- softmax cross-entropy: value, gradient, patched gradient, and the Loss class vs Keras's.
        upstream = ops.convert_to_tensor(data["ce_upstream"])
        labels = np.eye(4, dtype="float32")[data["class_ids"]]
        ce_objective = lambda z: ops.sum(upstream * ce_module.softmax_cross_entropy(labels, z))
        out["ce_value"] = numpy(dlkit.losses.softmax_cross_entropy(labels, data["logits"]))
        out["ce_sparse_value"] = numpy(
            dlkit.losses.softmax_cross_entropy(np.array(data["class_ids"]), data["logits"], sparse=True)
        )
        out["ce_grad"] = gradients(ce_objective, data["logits"])[0]
        original_ce_backward = ce_module.softmax_cross_entropy_backward
        ce_module.softmax_cross_entropy_backward = lambda *args: SCALE * original_ce_backward(*args)
        out["ce_grad_patched"] = gradients(ce_objective, data["logits"])[0]
        ce_module.softmax_cross_entropy_backward = original_ce_backward
        out["ce_class"] = [
            float(dlkit.losses.SoftmaxCrossEntropy()(labels, data["logits"])),
            float(keras.losses.CategoricalCrossentropy(from_logits=True)(labels, data["logits"])),
        ]


        def paired(ours, builtin, x, weights, **call):
            for layer in (ours, builtin):
                layer.build(x.shape)
                layer.set_weights(weights)
            return [numpy(ours(x, **call)), numpy(builtin(x, **call))]


        feats, imgs = data["features"], data["images"]
        out["layer_norm"] = paired(
            dlkit.layers.LayerNorm(epsilon=EPSILON),
            keras.layers.LayerNormalization(epsilon=EPSILON),
            feats,
            [data["feature_gamma"], data["feature_beta"]],
        )
        out["group_norm"] = paired(
            dlkit.layers.GroupNorm(groups=2, epsilon=EPSILON),
            keras.layers.GroupNormalization(groups=2, epsilon=EPSILON),
            imgs,
            [data["channel_gamma"], data["channel_beta"]],
        )
        for padding in ("valid", "same"):
            out["conv_" + padding] = paired(
                dlkit.layers.Conv2DNaive(5, 3, strides=2, padding=padding),
                keras.layers.Conv2D(5, 3, strides=2, padding=padding),
                imgs,
                [data["conv_kernel"], data["conv_bias"]],
            )
            pools = (dlkit.layers.MaxPool2DNaive(3, 2, padding), keras.layers.MaxPooling2D(3, 2, padding))
            out["pool_" + padding] = [numpy(layer(imgs)) for layer in pools]
        maxout = dlkit.layers.Maxout(3, num_pieces=2)
        maxout.build(feats.shape)
        maxout.set_weights([data["maxout_kernel"], data["maxout_bias"]])
        out["maxout"] = numpy(maxout(feats))
        out["softmax"] = numpy(dlkit.layers.softmax(data["logits"] * 300.0))

        dropout = dlkit.layers.InvertedDropout(0.25, seed=7)
        ones = np.ones((200, 100), "float32")
        out["dropout"] = {{
            "first": numpy(dropout(ones, training=True)),
            "second": numpy(dropout(ones, training=True)),
            "again": numpy(dlkit.layers.InvertedDropout(0.25, seed=7)(ones, training=True)),
            "inference": numpy(dropout(feats, training=False)),
        }}

        connect = dlkit.layers.DropConnectDense(3, rate=0.5, seed=3)
        connect.build(feats.shape)
        connect.set_weights([data["dense_kernel"], data["dense_bias"]])
        # The mask the layer draws: the first uniform draw of a generator with the layer's seed.
        mask = ops.cast(
            keras.random.uniform((6, 3), seed=keras.random.SeedGenerator(3)) >= 0.5, "float32"
        )
        out["drop_connect"] = {{
            "training": numpy(connect(feats, training=True)),
            "mask": numpy(mask),
            "inference": numpy(connect(feats, training=False)),
        }}

        depth = dlkit.layers.StochasticDepth(0.6, seed=5)
        shortcut, residual = feats, data["features"][::-1] * 2.0
        out["stochastic_depth"] = {{
            "training": [numpy(depth([shortcut, residual], training=True)) for _ in range(12)],
            "inference": numpy(depth([shortcut, residual], training=False)),
        }}

        cutout = dlkit.layers.Cutout(size=3, fill_value=-5.0, seed=2)
        out["cutout"] = {{
            "mask": numpy(dlkit.layers.cutout_mask(8, 8, data["cutout_centers"], 4)),
            "training": numpy(cutout(imgs, training=True)),
            "inference": numpy(cutout(imgs, training=False)),
        }}

        # --- a .keras round trip of a model made of dlkit layers.
        keras.utils.set_random_seed(1)
        model = keras.Sequential(
            [
                keras.Input((7, 7, 4)),
                dlkit.layers.Conv2DNaive(4, 3, padding="same"),
                dlkit.layers.BatchNorm(),
                dlkit.layers.GroupNorm(groups=2),
                dlkit.layers.MaxPool2DNaive(2),
                keras.layers.Flatten(),
                dlkit.layers.Maxout(6, num_pieces=2),
                dlkit.layers.LayerNorm(),
                dlkit.layers.InvertedDropout(0.3, seed=1),
                keras.layers.Dense(3),
            ]
        )
        model.compile(optimizer="sgd", loss=dlkit.losses.SoftmaxCrossEntropy(sparse=True))
        model.fit(imgs, np.array([0, 2]), epochs=1, verbose=0)  # moves BatchNorm's moving stats off 0 and 1
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            model.save(path)
            loaded = keras.models.load_model(path)
        out["saved"] = {{
            "before": numpy(model.predict(imgs, verbose=0)),
            "after": numpy(loaded.predict(imgs, verbose=0)),
            "classes": [type(layer).__module__ + "." + type(layer).__name__ for layer in loaded.layers],
            "loss": type(loaded.loss).__name__,
        }}

        # --- training: dlkit BatchNorm + InvertedDropout + the dlkit loss in fit.
        x = data["fit_x"]
        y = (x[:, 0] + x[:, 1] > 0).astype("int32") + (x[:, 2] > 1.0).astype("int32")
        net = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(16),
                dlkit.layers.BatchNorm(),
                keras.layers.ReLU(),
                dlkit.layers.InvertedDropout(0.1, seed=0),
                keras.layers.Dense(3),
            ]
        )
        net.compile(optimizer=keras.optimizers.Adam(0.02), loss=dlkit.losses.SoftmaxCrossEntropy(sparse=True))
        out["fit_loss"] = net.fit(x, y, batch_size=16, epochs=8, shuffle=False, verbose=0).history["loss"]
        print("RESULT " + json.dumps(out))
        """
    )
)


@functools.cache
def _run(backend):
    result = run_script(backend, SCRIPT, timeout=300)[1]
    assert result["backend"] == backend
    return result


def _close(actual, expected, rtol=1e-5, atol=1e-5, **kwargs):
    np.testing.assert_allclose(np.asarray(actual, "float64"), expected, rtol=rtol, atol=atol, **kwargs)


def _bn_backward_long_form(x, gamma, dy):
    # The chain rule through mu and var step by step (Ioffe & Szegedy 2015, sec. 3), in float64.
    m = x.shape[0]
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + EPSILON)
    x_hat = (x - mu) * inv_std
    dx_hat = dy * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * inv_std**3
    dmu = -np.sum(dx_hat, axis=0) * inv_std + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * (x - mu) / m + dmu / m
    return dx, np.sum(dy * x_hat, axis=0, keepdims=True), np.sum(dy, axis=0, keepdims=True)


def _numpy_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_norm_forward_and_hand_written_gradient_on_each_backend(backend):
    result, data = _run(backend), _inputs()
    x, gamma, beta, dy = (data[k].astype("float64") for k in ("bn_x", "bn_gamma", "bn_beta", "bn_dy"))
    y, mean, variance = result["bn_function"]
    _close(mean, x.mean(axis=0, keepdims=True))
    _close(variance, x.var(axis=0, keepdims=True))
    _close(y, gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + EPSILON) + beta, rtol=1e-4)

    expected = _bn_backward_long_form(x, gamma, dy)
    for name, got, autodiff, want in zip(
        ("dx", "dgamma", "dbeta"), result["bn_grads"], result["bn_autodiff_grads"], expected
    ):
        _close(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
        _close(autodiff, want, rtol=1e-4, atol=1e-5, err_msg=name)
        # The patched backward pass is the one the backend ran: every gradient is SCALE times larger.
        _close(result["bn_grads_patched"][("dx", "dgamma", "dbeta").index(name)], SCALE * want, rtol=1e-4)
    assert np.abs(expected[0]).max() > 0.1  # dx is not trivially 0 (dy is not constant per feature)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_norm_layer_matches_keras_in_training_and_inference_on_each_backend(backend):
    layers = _run(backend)["bn_layer"]
    ours, builtin = layers["dlkit"], layers["keras"]
    for key in ("training", "moving_mean", "moving_variance", "inference"):
        _close(ours[key], builtin[key], rtol=1e-4, atol=1e-5, err_msg=key)
    # Momentum was applied once: the moving stats moved from (0, 1) by (1 - momentum) of the batch stats.
    images = _inputs()["bn_images"].astype("float64")
    _close(ours["moving_mean"], (1 - MOMENTUM) * images.mean(axis=(0, 1, 2)))
    _close(ours["moving_variance"], MOMENTUM + (1 - MOMENTUM) * images.var(axis=(0, 1, 2)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_cross_entropy_value_and_hand_written_gradient_on_each_backend(backend):
    result, data = _run(backend), _inputs()
    z = data["logits"].astype("float64")
    labels = np.eye(4)[data["class_ids"]]
    log_softmax = np.log(_numpy_softmax(z))
    expected = -np.sum(labels * log_softmax, axis=-1)
    _close(result["ce_value"], expected)
    _close(result["ce_sparse_value"], expected)
    _close(result["ce_class"], [expected.mean()] * 2)
    gradient = data["ce_upstream"][:, None] * (_numpy_softmax(z) - labels)
    _close(result["ce_grad"], gradient)
    _close(result["ce_grad_patched"], SCALE * gradient)


@pytest.mark.parametrize("backend", BACKENDS)
def test_normalization_conv_pool_maxout_and_softmax_match_references_on_each_backend(backend):
    result, data = _run(backend), _inputs()
    for key in ("layer_norm", "group_norm", "conv_valid", "conv_same", "pool_valid", "pool_same"):
        ours, builtin = result[key]
        _close(ours, builtin, rtol=1e-4, atol=1e-4, err_msg=key)
    assert np.asarray(result["conv_same"][0]).shape == (2, 4, 4, 5)
    assert np.asarray(result["pool_valid"][0]).shape == (2, 3, 3, 4)

    features = data["features"].astype("float64")
    z = features @ data["maxout_kernel"] + data["maxout_bias"]
    _close(result["maxout"], z.reshape(4, 3, 2).max(axis=-1), rtol=1e-5)

    logits = data["logits"].astype("float64") * 300.0  # exp would overflow without the max shift
    _close(result["softmax"], _numpy_softmax(logits), atol=1e-6)
    assert np.isfinite(result["softmax"]).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_regularization_layers_match_their_formulas_on_each_backend(backend):
    result, data = _run(backend), _inputs()
    features = data["features"].astype("float64")

    dropout = result["dropout"]
    first = np.asarray(dropout["first"])
    assert np.all((first == 0.0) | np.isclose(first, 1 / 0.75, rtol=1e-6))
    assert abs(first.mean() - 1.0) < 0.03  # mean-preserving: 20,000 units, std of the mean ~0.004
    assert abs((first == 0).mean() - 0.25) < 0.03
    assert dropout["again"] == dropout["first"] and dropout["second"] != dropout["first"]
    _close(dropout["inference"], features, rtol=0, atol=0)

    connect = result["drop_connect"]
    mask = np.asarray(connect["mask"])
    assert 0 < mask.sum() < mask.size
    _close(
        connect["training"], features @ (data["dense_kernel"] * mask / 0.5) + data["dense_bias"], rtol=1e-5
    )
    _close(connect["inference"], features @ data["dense_kernel"] + data["dense_bias"], rtol=1e-5)

    depth = result["stochastic_depth"]
    residual = features[::-1] * 2.0
    kept = [np.allclose(out, features + residual, atol=1e-6) for out in depth["training"]]
    dropped = [np.allclose(out, features, atol=1e-6) for out in depth["training"]]
    assert all(k or d for k, d in zip(kept, dropped)) and any(kept) and any(dropped)
    _close(depth["inference"], features + 0.6 * residual, rtol=1e-6)

    cutout = result["cutout"]
    expected_mask = np.ones((3, 8, 8))
    for i, (row, col) in enumerate(data["cutout_centers"]):
        expected_mask[i, max(row - 2, 0) : row + 2, max(col - 2, 0) : col + 2] = 0.0
    _close(cutout["mask"], expected_mask, rtol=0, atol=0)
    images, training = data["images"], np.asarray(cutout["training"])
    filled = np.all(training == -5.0, axis=-1)
    assert np.all((training == images) | (training == -5.0))
    for image in filled:  # one patch per image, at most 3 x 3, clipped at the border
        rows, cols = np.nonzero(image)
        assert 0 < len(rows) <= 9 and rows.max() - rows.min() < 3 and cols.max() - cols.min() < 3
    _close(cutout["inference"], images, rtol=0, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_file_round_trip_and_fit_with_dlkit_layers_on_each_backend(backend):
    result = _run(backend)
    saved = result["saved"]
    assert np.abs(np.asarray(saved["before"])).max() > 1e-3  # a real prediction, not zeros
    _close(saved["after"], saved["before"], rtol=1e-5, atol=1e-6)
    assert [name for name in saved["classes"] if name.startswith("dlkit.")] == [
        "dlkit.layers.conv2d_naive.Conv2DNaive",
        "dlkit.layers.batch_norm.BatchNorm",
        "dlkit.layers.group_norm.GroupNorm",
        "dlkit.layers.max_pool2d_naive.MaxPool2DNaive",
        "dlkit.layers.maxout.Maxout",
        "dlkit.layers.layer_norm.LayerNorm",
        "dlkit.layers.inverted_dropout.InvertedDropout",
    ]
    assert saved["loss"] == "SoftmaxCrossEntropy"
    losses = result["fit_loss"]
    assert all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_layers_and_losses_do_not_import_tensorflow_on_other_backends(backend):
    assert _run(backend)["tensorflow_imported"] is False


def test_hand_written_gradients_refuse_a_backend_that_cannot_run_them(monkeypatch):
    # No installed backend is refused any more (TensorFlow, JAX and PyTorch pass the tripled-gradient check
    # above); the refusal stays for a backend whose custom gradient would silently be autodiff or NaN. Both
    # functions must consult it, and the message must name the built-in to use instead.
    monkeypatch.setattr(dlkit._backend, "_UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS", ("no-gradients",))
    monkeypatch.setattr(keras.backend, "backend", lambda: "no-gradients")
    x = np.ones((4, 2), "float32")
    with pytest.raises(
        NotImplementedError, match="not on the 'no-gradients' backend.*keras.layers.BatchNormalization"
    ):
        dlkit.layers.batch_norm(x, np.ones((1, 2), "float32"), np.zeros((1, 2), "float32"))
    with pytest.raises(
        NotImplementedError, match="not on the 'no-gradients' backend.*CategoricalCrossentropy"
    ):
        dlkit.losses.softmax_cross_entropy(x, x)


def test_no_installed_backend_is_refused():
    assert not {"tensorflow", "jax", "torch"} & set(dlkit._backend._UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS)
