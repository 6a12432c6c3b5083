"""Visible checks for lab 02 (regularization): the L2 cost, its Keras form, inverted dropout, early stopping and
data augmentation.

The references are independent of the student's code: NumPy formulas written here, statistics of many dropout
masks, and Keras's own `EarlyStopping` run on the same dev losses. On a mismatch each check tries the usual
mistakes (lambda/m instead of lambda/(2m), a norm that is not squared, no 1/keep_prob scaling, dropout at test
time, a patience off by one, a horizontal flip of digits, ...) and names the one it found.
"""

import numpy as np

from dlkit.lab_checks.expect import expect_close, expect_true, fail, passed


def _weights(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _l2_reference(weights, lambd, m):
    return lambd / (2 * m) * sum(float(np.sum(np.square(w))) for w in weights)


def _as_float(where, value):
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(where, f"must return a number, got {type(value).__name__}")
    expect_true(
        where,
        array.shape == (),
        f"must return a single number (a scalar), got an array of shape {array.shape}",
    )
    return float(array)


def check_l2_cost(l2_regularization_cost):
    """Checks `l2_regularization_cost(weights, lambd, m)` = lambd / (2 m) * sum_l sum(W_l ** 2)."""
    cases = [
        (_weights(0, [(2, 20), (20, 3), (3, 1)]), 0.7, 211),
        (_weights(1, [(4, 5), (5, 1)]), 2.0, 10),
        ([np.array([[1.0, 2.0], [3.0, 4.0]])], 1.0, 1),
    ]
    for weights, lambd, m in cases:
        where = f"l2_regularization_cost(<{len(weights)} weight matrices>, lambd={lambd}, m={m})"
        value = _as_float(where, l2_regularization_cost([w.copy() for w in weights], lambd, m))
        expected = _l2_reference(weights, lambd, m)
        if np.isclose(value, expected, rtol=1e-6):
            continue
        squares = [float(np.sum(np.square(w))) for w in weights]
        norms = [float(np.sqrt(s)) for s in squares]
        mistakes = [
            (
                lambd / m * sum(squares),
                "you used lambd / m; the cost term is lambd / (2 m) times the sum of squares "
                "(the 1/2 makes its gradient (lambd / m) W)",
            ),
            (
                lambd / 2 * sum(squares),
                "you did not divide by m: the term is lambd / (2 m) * sum ||W||^2, with m the "
                "number of training examples",
            ),
            (lambd * sum(squares), "the factor lambd / (2 m) is missing"),
            (
                lambd / (2 * m) * sum(norms),
                "you added the Frobenius norms ||W||_F; the cost uses their squares, "
                "sum(W ** 2) over every entry",
            ),
            (
                lambd / (2 * m) * sum(float(np.mean(np.square(w))) for w in weights),
                "you averaged the squares (np.mean); the Frobenius norm squared is their sum (np.sum)",
            ),
            (
                lambd / (2 * m) * squares[0],
                "only the first weight matrix is counted: add up every layer's ||W||_F^2",
            ),
            (
                lambd / (2 * m) * squares[-1],
                "only the last weight matrix is counted: add up every layer's ||W||_F^2",
            ),
            (lambd / (2 * m) * sum(norms) ** 2, "you squared the sum of the norms; add up the squared norms"),
        ]
        for wrong, message in mistakes:
            if len(weights) == 1 and message.startswith("only"):
                continue
            if np.isclose(value, wrong, rtol=1e-6) and not np.isclose(wrong, expected, rtol=1e-6):
                fail(where, f"{message}. Expected {expected:.6g}, got {value:.6g}")
        expect_close(f"{where} (lambd / (2 m) * sum_l sum(W_l ** 2))", value, expected, rtol=1e-6)
    expect_close(
        "l2_regularization_cost([], 0.7, 211) (no weights: nothing to penalize)",
        _as_float("l2_regularization_cost([], 0.7, 211)", l2_regularization_cost([], 0.7, 211)),
        0.0,
    )
    passed("l2_regularization_cost")


def check_keras_l2(keras_l2_regularizer):
    """Checks `keras_l2_regularizer(lambd, m)`: a `keras.regularizers.L2` whose penalty is lambd / (2 m) sum W^2."""
    import keras

    for lambd, m in ((0.7, 211), (2.0, 50), (0.1, 8)):
        where = f"keras_l2_regularizer(lambd={lambd}, m={m})"
        regularizer = keras_l2_regularizer(lambd, m)
        expect_true(
            where,
            isinstance(regularizer, keras.regularizers.L2),
            f"must return a keras.regularizers.L2 instance, got {type(regularizer).__name__}",
        )
        factor = float(regularizer.l2)
        expected = lambd / (2 * m)
        for wrong, message in (
            (
                lambd / m,
                "l2 = lambd / m is twice too large: Keras adds l2 * sum(W ** 2) with no 1/2, so the course's "
                "lambd / (2 m) * ||W||^2 needs l2 = lambd / (2 m)",
            ),
            (
                lambd,
                "l2 = lambd ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
            ),
            (
                lambd / 2,
                "l2 = lambd / 2 ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
            ),
            (lambd / (2 * 32), "l2 uses a batch size of 32 instead of m, the number of training examples"),
        ):
            if np.isclose(factor, wrong, rtol=1e-6) and not np.isclose(wrong, expected, rtol=1e-6):
                fail(where, f"{message}. Expected l2={expected:.6g}, got l2={factor:.6g}")
        expect_close(f"{where}.l2 (lambd / (2 m))", factor, expected, rtol=1e-6)
        kernel = _weights(3, [(5, 4)])[0].astype("float32")
        expect_close(
            f"{where}(W): the penalty Keras adds to the loss",
            float(regularizer(kernel)),
            _l2_reference([kernel], lambd, m),
            rtol=1e-5,
        )
    passed("keras_l2_regularizer")


def _mask_fraction(values):
    kept = ~np.isclose(values, 0.0)
    return kept, float(kept.mean())


def check_inverted_dropout(layer_class):
    """Checks an inverted-dropout layer `layer_class(keep_prob, seed=None)`.

    In training each entry is kept with probability keep_prob and divided by keep_prob (so its mean is unchanged);
    at inference (`training=False` or not given) the layer returns its input. Masks are drawn per entry, change
    from call to call (also inside a `tf.function`), and are reproducible from `seed`.
    """
    import keras
    import tensorflow as tf

    name = getattr(layer_class, "__name__", "the layer")
    keep_prob = 0.8
    ones = np.ones((500, 200), dtype="float32")
    layer = layer_class(keep_prob, seed=1)
    where = f"{name}(keep_prob={keep_prob}, seed=1)"

    for training in (None, False):
        out = layer(ones) if training is None else layer(ones, training=False)
        arg = "" if training is None else ", training=False"
        expect_true(
            where,
            tuple(out.shape) == ones.shape,
            f"layer(x{arg}) has shape {tuple(out.shape)}, expected the input's shape {ones.shape}",
        )
        expect_true(
            where,
            np.array_equal(np.asarray(out), ones),
            f"layer(x{arg}) changed its input: at inference (training False or None) the layer must return the "
            "input unchanged. No dropout at test time; the 1/keep_prob scaling in training already keeps the "
            "expected activations the same",
        )

    out = np.asarray(layer(ones, training=True))
    expect_true(
        where,
        out.shape == ones.shape,
        f"layer(x, training=True) has shape {out.shape}, expected {ones.shape}",
    )
    expect_true(
        where,
        out.dtype == np.float32,
        f"layer(x, training=True) has dtype {out.dtype}, expected float32 (the input's dtype)",
    )
    expect_true(where, np.all(np.isfinite(out)), "layer(x, training=True) holds NaN or infinite values")
    values = np.unique(np.round(out, 5))
    expect_true(
        where,
        not np.array_equal(values, [1.0]),
        "in training (training=True) nothing was dropped: draw a random mask and zero the dropped units",
    )
    kept, fraction = _mask_fraction(out)
    nonzero = np.unique(np.round(out[kept], 4))
    if np.allclose(nonzero, 1.0):
        fail(
            where,
            "the kept units are not scaled: divide them by keep_prob (inverted dropout), so that "
            f"E[output] = input. Expected kept entries of 1 / {keep_prob} = {1 / keep_prob:.4g}, got 1",
        )
    if np.allclose(nonzero, keep_prob):
        fail(
            where,
            f"the kept units were multiplied by keep_prob ({keep_prob}); divide them by it "
            f"(1 / {keep_prob} = {1 / keep_prob:.4g})",
        )
    expect_true(
        where,
        np.allclose(nonzero, 1 / keep_prob, rtol=1e-4),
        f"on an input of ones every output must be 0 (dropped) or 1 / keep_prob = {1 / keep_prob:.4g} (kept); "
        f"got the values {values[:6].tolist()}",
    )
    row_masks = kept.reshape(kept.shape[0], -1)
    expect_true(
        where,
        not np.all(row_masks == row_masks[:1]),
        "every example (row) got the same mask: draw one random number per entry, with the shape of the inputs "
        "(keras.ops.shape(inputs)), not one per unit",
    )
    expect_true(
        where,
        not np.all(row_masks == row_masks[:, :1]),
        "all units of an example share one random draw: draw one random number per entry (the inputs' shape)",
    )

    if abs(fraction - (1 - keep_prob)) < 0.02:
        fail(
            where,
            f"{fraction:.1%} of the units were kept, about 1 - keep_prob: keep a unit where "
            "uniform < keep_prob (keep_prob is the probability of KEEPING a unit)",
        )
    expect_true(
        where,
        abs(fraction - keep_prob) < 0.02,
        f"{fraction:.1%} of the units were kept; each unit must be kept with probability keep_prob = {keep_prob:.0%} "
        "(keep where keras.random.uniform(shape) < keep_prob)",
    )
    expect_true(
        where,
        abs(float(out.mean()) - 1.0) < 0.02,
        f"the mean output on ones is {out.mean():.4f}; inverted dropout keeps the mean at 1",
    )
    x = np.random.default_rng(0).standard_normal((300, 40)).astype("float32") + 3.0
    y = np.asarray(layer_class(0.6, seed=2)(x, training=True))
    dropped = np.isclose(y, 0.0)
    expect_true(
        f"{name}(keep_prob=0.6, seed=2)",
        np.allclose(y[~dropped], x[~dropped] / 0.6, rtol=1e-5),
        "on random inputs the kept entries must equal input / keep_prob (multiply the input by the mask, then divide "
        "by keep_prob)",
    )

    again = np.asarray(layer(ones, training=True))
    expect_true(
        where,
        not np.array_equal(again, out),
        "two calls in training gave the same mask: draw a new mask on every call with "
        "keras.random.uniform(..., seed=self.seed_generator) (a fixed integer seed repeats the same mask)",
    )
    first = np.asarray(layer_class(keep_prob, seed=7)(ones, training=True))
    second = np.asarray(layer_class(keep_prob, seed=7)(ones, training=True))
    expect_true(
        f"{name}(keep_prob={keep_prob}, seed=7)",
        np.array_equal(first, second),
        "two layers built with the same seed drew different masks: draw with seed=self.seed_generator (the layer's "
        "keras.random.SeedGenerator), not np.random or an unseeded keras.random call",
    )
    other = np.asarray(layer_class(keep_prob, seed=8)(ones, training=True))
    expect_true(
        f"{name}(keep_prob={keep_prob}, seed=8)",
        not np.array_equal(first, other),
        "layers with different seeds drew the same mask: draw with seed=self.seed_generator",
    )

    graph_layer = layer_class(keep_prob, seed=3)
    step = tf.function(lambda inputs: graph_layer(inputs, training=True))
    try:
        a, b = np.asarray(step(tf.constant(ones))), np.asarray(step(tf.constant(ones)))
    except Exception as error:  # noqa: BLE001 - report any failure inside a traced graph the same way
        fail(
            f"{name} inside tf.function",
            f"the layer fails in a compiled graph (as in model.fit): "
            f"{type(error).__name__}: {str(error)[:200]}. Use keras.ops / keras.random, not NumPy",
        )
    expect_true(
        f"{name} inside tf.function",
        not np.array_equal(a, b),
        "in a compiled graph (model.fit) two training steps dropped the same units: NumPy's random numbers are "
        "drawn once, when Keras traces the graph. Use keras.random.uniform(..., seed=self.seed_generator)",
    )
    model = keras.Sequential([keras.Input((200,)), layer_class(keep_prob, seed=4)])
    expect_true(
        f"{name} in a keras.Sequential",
        np.array_equal(np.asarray(model(ones[:8], training=False)), ones[:8]),
        "model(x, training=False) (inference) changed the input: no dropout at test time",
    )
    passed(name)


def _keras_early_stopping(dev_losses, patience):
    """The reference: keras.callbacks.EarlyStopping(monitor="val_loss", patience) run on `dev_losses`."""
    import keras

    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)

    class _Model:
        stop_training = False

    callback.set_model(_Model())
    callback.on_train_begin()
    for epoch, loss in enumerate(dev_losses):
        callback.on_epoch_end(epoch, {"val_loss": float(loss)})
        if callback.model.stop_training:
            return epoch, callback.best_epoch
    return len(dev_losses) - 1, callback.best_epoch


# (dev losses, patience): falls then rises; a tie with the best; a rise, a dip that is not a new best, a rise;
# patience never runs out; noise around a plateau.
_ES_CASES = [
    ([0.9, 0.7, 0.6, 0.55, 0.56, 0.58, 0.6, 0.61, 0.65, 0.7], 3),
    ([0.9, 0.5, 0.6, 0.5, 0.7, 0.8, 0.9], 2),
    ([1.0, 0.8, 0.9, 0.85, 0.95, 0.82, 1.1, 1.2, 0.7], 4),
    ([1.0, 0.9, 0.8, 0.7, 0.6], 2),
    ([0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55], 1),
    ([0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55], 3),
]


def _es_mistakes(dev_losses, patience):
    """Outputs of the usual wrong rules, with what each one gets wrong."""
    losses = list(dev_losses)

    def rule(compare_previous=False, ties=False, extra=0):
        best, best_epoch, wait = np.inf, 0, 0
        previous = np.inf
        for epoch, loss in enumerate(losses):
            reference = previous if compare_previous else best
            improved = loss <= reference if ties else loss < reference
            if improved:
                wait = 0
            else:
                wait += 1
            if loss < best or (ties and loss <= best):
                best, best_epoch = loss, epoch
            previous = loss
            if wait >= patience + extra:
                return epoch, best_epoch
        return len(losses) - 1, best_epoch

    return [
        (
            rule(extra=1),
            "you stopped one epoch late: stop as soon as `patience` epochs in a row brought no new best "
            "(wait >= patience, not wait > patience)",
        ),
        (
            rule(extra=-1),
            "you stopped one epoch early: stop when `patience` epochs in a row brought no new best "
            "(wait >= patience), counting from 0 after each new best",
        ),
        (
            rule(compare_previous=True),
            "you compared each loss with the previous epoch's; compare it with the best "
            "loss so far (a small dip that does not beat the best is no improvement)",
        ),
        (
            rule(ties=True),
            "you counted a loss equal to the best as an improvement; only a strictly lower loss is a "
            "new best (as in Keras)",
        ),
    ]


def check_early_stopping_epoch(early_stopping_epoch):
    """Checks `early_stopping_epoch(dev_losses, patience)` -> (stop_epoch, best_epoch) against Keras's EarlyStopping."""
    for dev_losses, patience in _ES_CASES:
        where = f"early_stopping_epoch({dev_losses}, patience={patience})"
        result = early_stopping_epoch(list(dev_losses), patience)
        expect_true(
            where,
            isinstance(result, tuple | list) and len(result) == 2,
            f"must return a pair (stop_epoch, best_epoch), got {result!r}",
        )
        got = tuple(int(v) for v in result)
        expected = _keras_early_stopping(dev_losses, patience)
        if got == expected:
            continue
        if got == (expected[1], expected[0]):
            fail(where, f"the pair is the wrong way round: return (stop_epoch, best_epoch) = {expected}")
        if got == (expected[0] + 1, expected[1] + 1):
            fail(
                where,
                f"epochs are counted from 0 (like Keras's `epoch` argument): expected {expected}, got {got}",
            )
        for wrong, message in _es_mistakes(dev_losses, patience):
            if got == wrong != expected:
                fail(where, f"{message}. Expected (stop_epoch, best_epoch) = {expected}, got {got}")
        if got[1] != expected[1]:
            fail(
                where,
                f"best_epoch must be the epoch of the lowest dev loss seen up to the stop (the first one on "
                f"a tie): expected {expected[1]}, got {got[1]}",
            )
        fail(
            where,
            f"expected (stop_epoch, best_epoch) = {expected} (what keras.callbacks.EarlyStopping does), "
            f"got {got}",
        )
    passed("early_stopping_epoch")


def check_early_stopping_callback(make_early_stopping):
    """Checks `make_early_stopping(patience)`: EarlyStopping on val_loss, minimizing, restoring the best weights."""
    import keras

    for patience in (5, 2):
        where = f"make_early_stopping(patience={patience})"
        callback = make_early_stopping(patience)
        expect_true(
            where,
            isinstance(callback, keras.callbacks.EarlyStopping),
            f"must return a keras.callbacks.EarlyStopping, got {type(callback).__name__}",
        )
        if callback.monitor == "loss":
            fail(
                where,
                "monitor='loss' watches the TRAINING loss, which keeps falling while the network overfits; "
                "monitor the dev loss, 'val_loss'",
            )
        expect_true(
            where,
            callback.monitor == "val_loss",
            f"monitor must be 'val_loss' (the dev loss), got {callback.monitor!r}",
        )
        expect_true(
            where,
            callback.mode in ("min", "auto"),
            f"a loss is minimized: mode must be 'min' (or 'auto'), got {callback.mode!r}",
        )
        expect_true(
            where,
            callback.patience == patience,
            f"patience must be the argument ({patience}), got {callback.patience}",
        )
        expect_true(
            where,
            callback.restore_best_weights is True,
            "restore_best_weights must be True: otherwise the model keeps the weights of the last epoch, `patience` "
            "epochs past the best one",
        )
        expect_true(
            where,
            float(callback.min_delta) == 0.0,
            f"keep the default min_delta=0 (any lower dev loss is an improvement), got {callback.min_delta}",
        )
        expect_true(
            where,
            callback.start_from_epoch == 0 and callback.baseline is None,
            "keep the defaults start_from_epoch=0 and baseline=None",
        )
    passed("make_early_stopping")


def check_augmentation(build_augmentation, images):
    """Checks `build_augmentation(seed)` on a batch of digit `images` of shape (n, 8, 8, 1) in [0, 1].

    The pipeline must be a `keras.Sequential` of image preprocessing layers, without horizontal flips; keep the
    shape and float32 dtype; be the identity at inference; change images in training, but only a little (an
    augmented digit still looks like the original).
    """
    import keras

    images = np.asarray(images, dtype="float32")
    where = "build_augmentation(seed=1)"
    pipeline = build_augmentation(seed=1)
    expect_true(
        where,
        isinstance(pipeline, keras.Sequential),
        f"must return a keras.Sequential of preprocessing layers, got {type(pipeline).__name__}",
    )
    layers = list(pipeline.layers)
    expect_true(where, len(layers) >= 2, f"use at least two augmentation layers, got {len(layers)}")
    kinds = {type(layer).__name__ for layer in layers}
    for layer in layers:
        if isinstance(layer, keras.layers.RandomFlip) and "horizontal" in layer.mode:
            fail(
                where,
                f"{layer.name} flips horizontally (mode={layer.mode!r}): a mirrored digit is not the same "
                "digit (a mirrored 3 is no digit at all, a 2 looks like an S). Shift, rotate and zoom instead",
            )
        if isinstance(layer, keras.layers.RandomFlip):
            fail(
                where,
                f"{layer.name} flips digits (mode={layer.mode!r}): an upside-down 6 is a 9. Shift, rotate "
                "and zoom instead",
            )
    wanted = {"RandomTranslation", "RandomRotation", "RandomZoom"}
    expect_true(
        where,
        wanted <= kinds,
        f"use RandomTranslation, RandomRotation and RandomZoom; missing {sorted(wanted - kinds)}",
    )

    inference = pipeline(images, training=False)
    expect_true(
        where,
        tuple(inference.shape) == images.shape,
        f"pipeline(x, training=False) has shape {tuple(inference.shape)}, expected {images.shape}",
    )
    expect_true(
        where,
        np.allclose(np.asarray(inference), images, atol=1e-6),
        "pipeline(x, training=False) changed the images: augmentation must be the identity at inference",
    )
    augmented = pipeline(images, training=True)
    array = np.asarray(augmented)
    expect_true(
        where,
        array.shape == images.shape,
        f"pipeline(x, training=True) has shape {array.shape}, expected {images.shape} (no cropping/resizing)",
    )
    expect_true(
        where,
        array.dtype == np.float32,
        f"pipeline(x, training=True) has dtype {array.dtype}, expected float32",
    )
    expect_true(where, np.all(np.isfinite(array)), "the augmented images hold NaN or infinite values")
    changed = np.mean([not np.allclose(a, b, atol=1e-3) for a, b in zip(array, images)])
    expect_true(
        where,
        changed >= 0.8,
        f"only {changed:.0%} of the images changed in training (training=True); augmentation should change "
        "nearly every image",
    )
    expect_true(
        where,
        array.min() >= -0.05 and array.max() <= 1.05,
        f"augmented pixels lie in [{array.min():.3g}, {array.max():.3g}]; the digits are in [0, 1]. Fill the new "
        "border with 0 (fill_mode='constant'), the background",
    )
    flat_a = array.reshape(len(array), -1)
    flat_x = images.reshape(len(images), -1)
    correlation = np.mean([np.corrcoef(a, b)[0, 1] if a.std() > 0 else 0.0 for a, b in zip(flat_a, flat_x)])
    expect_true(
        where,
        correlation >= 0.4,
        f"the augmented images are too different from the originals (mean correlation {correlation:.2f}): on 8x8 "
        "digits shift by at most 1 pixel (factor 1/8), rotate by at most ~15 degrees (factor 15/360) and zoom by "
        "at most ~10%",
    )
    again = np.asarray(build_augmentation(seed=1)(images, training=True))
    expect_true(
        where,
        np.allclose(again, array, atol=1e-5),
        "two pipelines built with seed=1 augmented differently: pass `seed` to every random layer",
    )
    passed("build_augmentation")
