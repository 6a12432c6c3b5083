"""Visible checks for lab 02 (regularization): the L2 cost, its Keras form, inverted dropout, early stopping and
data augmentation.

Each exercise has a private reference (`_reference_<name>`), a table of known mistakes (`_<name>_mistakes`) and a
public check (`check_<name>`), as described in `dlkit.lab_checks.expect`. The references are independent of the
student's code: NumPy formulas written here (the L2 cost; inverted dropout applied with the mask the student's
layer drew) and Keras's own `L2`, `EarlyStopping` and preprocessing layers. On a mismatch each check names the
usual mistake it reproduces (lambda/m instead of lambda/(2m), a norm that is not squared, no 1/keep_prob scaling,
dropout at test time, a patience off by one, a horizontal flip of digits, ...).

Dropout masks and augmentations are random, so those checks also test properties of the student's draws: the
fraction of units kept, new masks on every call, reproducibility from a seed, how far an augmented digit moves.
"""

import numpy as np

from dlkit.lab_checks.expect import check_value, expect_true, fail, passed


def _weights(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


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


# ---- exercise 1: the L2 cost -----------------------------------------------------------------------------------
def _reference_l2_cost(weights, lambd, m):
    """The L2 regularization term of the cost.

    ```
    cost = lambd / (2 * m) * sum_l sum(W_l ** 2)
    ```
    """
    return lambd / (2 * m) * sum(float(np.sum(np.square(w))) for w in weights)


def _l2_cost_mistakes(weights, lambd, m):
    """(message, wrong cost) pairs for `l2_regularization_cost(weights, lambd, m)`."""
    expected = _reference_l2_cost(weights, lambd, m)
    norms = [float(np.sqrt(np.sum(np.square(w)))) for w in weights]
    mistakes = [
        (
            "you used lambd / m; the cost term is lambd / (2 m) times the sum of squares "
            "(the 1/2 makes its gradient (lambd / m) W)",
            _reference_l2_cost(weights, 2 * lambd, m),
        ),
        (
            "you did not divide by m: the term is lambd / (2 m) * sum ||W||^2, with m the "
            "number of training examples",
            _reference_l2_cost(weights, lambd, 1),
        ),
        ("the factor lambd / (2 m) is missing", _reference_l2_cost(weights, 2 * lambd, 1)),
        (
            "you added the Frobenius norms ||W||_F; the cost uses their squares, sum(W ** 2) over every entry",
            lambd / (2 * m) * sum(norms),
        ),
        (
            "you averaged the squares (np.mean); the Frobenius norm squared is their sum (np.sum)",
            # sum((W / sqrt(W.size)) ** 2) = mean(W ** 2)
            _reference_l2_cost([w / np.sqrt(w.size) for w in weights], lambd, m),
        ),
        (
            "only the first weight matrix is counted: add up every layer's ||W||_F^2",
            _reference_l2_cost(weights[:1], lambd, m),
        ),
        (
            "only the last weight matrix is counted: add up every layer's ||W||_F^2",
            _reference_l2_cost(weights[-1:], lambd, m),
        ),
        ("you squared the sum of the norms; add up the squared norms", lambd / (2 * m) * sum(norms) ** 2),
    ]
    return [(f"{message}. Expected {expected:.6g}", wrong) for message, wrong in mistakes]


def check_l2_cost(l2_regularization_cost):
    """Checks `l2_regularization_cost(weights, lambd, m)` = lambd / (2 m) * sum_l sum(W_l ** 2)."""
    cases = [
        (_weights(0, [(2, 20), (20, 3), (3, 1)]), 0.7, 211),
        (_weights(1, [(4, 5), (5, 1)]), 2.0, 10),
        ([np.array([[1.0, 2.0], [3.0, 4.0]])], 1.0, 1),
        ([], 0.7, 211),
    ]
    for weights, lambd, m in cases:
        where = (
            f"l2_regularization_cost(<{len(weights)} weight matrices>, lambd={lambd}, m={m}) "
            "= lambd / (2 m) * sum_l sum(W_l ** 2)"
            if weights
            else f"l2_regularization_cost([], {lambd}, {m}) (no weights: nothing to penalize)"
        )
        value = _as_float(where, l2_regularization_cost([w.copy() for w in weights], lambd, m))
        check_value(
            where,
            value,
            _reference_l2_cost(weights, lambd, m),
            _l2_cost_mistakes(weights, lambd, m),
            rtol=1e-6,
        )
    passed("l2_regularization_cost")


# ---- exercise 2: the L2 penalty in Keras -----------------------------------------------------------------------
def _reference_keras_l2(lambd, m):
    """The course's L2 term as a Keras regularizer: Keras adds l2 * sum(W ** 2), so l2 = lambd / (2 m)."""
    import keras

    return keras.regularizers.L2(l2=lambd / (2 * m))


def _keras_l2_mistakes(lambd, m):
    """(message, wrong `l2` factor) pairs for `keras_l2_regularizer(lambd, m)`."""
    expected = float(_reference_keras_l2(lambd, m).l2)
    mistakes = [
        (
            "l2 = lambd / m is twice too large: Keras adds l2 * sum(W ** 2) with no 1/2, so the course's "
            "lambd / (2 m) * ||W||^2 needs l2 = lambd / (2 m)",
            _reference_keras_l2(lambd, m / 2).l2,
        ),
        (
            "l2 = lambd ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
            _reference_keras_l2(lambd, 0.5).l2,
        ),
        (
            "l2 = lambd / 2 ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
            _reference_keras_l2(lambd, 1).l2,
        ),
        (
            "l2 uses a batch size of 32 instead of m, the number of training examples",
            _reference_keras_l2(lambd, 32).l2,
        ),
    ]
    return [(f"{message}. Expected l2={expected:.6g}", float(wrong)) for message, wrong in mistakes]


def check_keras_l2(keras_l2_regularizer):
    """Checks `keras_l2_regularizer(lambd, m)`: a `keras.regularizers.L2` whose penalty is lambd / (2 m) sum W^2."""
    import keras

    kernel = _weights(3, [(5, 4)])[0].astype("float32")
    for lambd, m in ((0.7, 211), (2.0, 50), (0.1, 8)):
        where = f"keras_l2_regularizer(lambd={lambd}, m={m})"
        regularizer = keras_l2_regularizer(lambd, m)
        expect_true(
            where,
            isinstance(regularizer, keras.regularizers.L2),
            f"must return a keras.regularizers.L2 instance, got {type(regularizer).__name__}",
        )
        reference = _reference_keras_l2(lambd, m)
        check_value(
            f"{where}.l2 (lambd / (2 m))",
            float(regularizer.l2),
            float(reference.l2),
            _keras_l2_mistakes(lambd, m),
            rtol=1e-6,
        )
        check_value(
            f"{where}(W): the penalty Keras adds to the loss",
            float(regularizer(kernel)),
            float(reference(kernel)),
            rtol=1e-5,
        )
    passed("keras_l2_regularizer")


# ---- exercise 3: inverted dropout ------------------------------------------------------------------------------
def _reference_inverted_dropout(inputs, keep_prob, kept, training=True):
    """Inverted dropout of `inputs` with the boolean mask `kept` (True where a unit is kept).

    ```
    training:  outputs = inputs * kept / keep_prob
    inference: outputs = inputs
    ```
    """
    inputs = np.asarray(inputs, dtype=float)
    if not training:
        return inputs
    return inputs * np.asarray(kept, dtype=float) / keep_prob


def _inverted_dropout_mistakes(inputs, keep_prob, kept, training=True):
    """(message, wrong outputs) pairs for an inverted-dropout layer that drew the mask `kept` on `inputs`."""
    if not training:
        return [
            (
                "at inference (training False or None) the layer must return the input unchanged. No dropout at "
                "test time; the 1/keep_prob scaling in training already keeps the expected activations the same",
                _reference_inverted_dropout(inputs, keep_prob, kept),
            ),
            (
                f"at inference you multiplied the input by keep_prob ({keep_prob}), as the original (not "
                "inverted) dropout does; inverted dropout scales in training and returns the input unchanged "
                "at test time",
                _reference_inverted_dropout(inputs, 1 / keep_prob, np.ones_like(kept)),
            ),
        ]
    return [
        (
            "the kept units are not scaled: divide them by keep_prob (inverted dropout), so that "
            f"E[output] = input. Expected kept entries of input / {keep_prob} = input * {1 / keep_prob:.4g}",
            _reference_inverted_dropout(inputs, 1.0, kept),
        ),
        (
            f"the kept units were multiplied by keep_prob ({keep_prob}); divide them by it "
            f"(1 / {keep_prob} = {1 / keep_prob:.4g})",
            _reference_inverted_dropout(inputs, 1 / keep_prob, kept),
        ),
    ]


def _kept(outputs):
    """The mask a dropout layer drew, read from its outputs: the entries that are not 0."""
    return ~np.isclose(np.asarray(outputs), 0.0)


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
        check_value(
            f"{where}: layer(x{arg}) changed its input",
            out,
            _reference_inverted_dropout(ones, keep_prob, None, training=False),
            _inverted_dropout_mistakes(ones, keep_prob, _kept(out), training=False),
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
    expect_true(
        where,
        not np.array_equal(np.unique(np.round(out, 5)), [1.0]),
        "in training (training=True) nothing was dropped: draw a random mask and zero the dropped units",
    )
    kept = _kept(out)
    check_value(
        f"{where}: layer(ones, training=True) (every output must be 0, dropped, or 1 / keep_prob = "
        f"{1 / keep_prob:.4g}, kept)",
        out,
        _reference_inverted_dropout(ones, keep_prob, kept),
        _inverted_dropout_mistakes(ones, keep_prob, kept),
        rtol=1e-4,
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
    check_value(
        f"{where}: the fraction of units kept (each unit must be kept with probability keep_prob = "
        f"{keep_prob:.0%}: keep where keras.random.uniform(shape) < keep_prob)",
        kept.mean(),
        keep_prob,
        [
            (
                f"about 1 - keep_prob = {1 - keep_prob:.0%} of the units were kept: keep a unit where "
                "uniform < keep_prob (keep_prob is the probability of KEEPING a unit)",
                1 - keep_prob,
            )
        ],
        rtol=0,
        atol=0.02,
    )
    check_value(
        f"{where}: the mean output on ones (inverted dropout keeps the mean at 1)",
        out.mean(),
        ones.mean(),
        rtol=0,
        atol=0.02,
    )
    x = np.random.default_rng(0).standard_normal((300, 40)).astype("float32") + 3.0
    y = np.asarray(layer_class(0.6, seed=2)(x, training=True))
    check_value(
        f"{name}(keep_prob=0.6, seed=2): on random inputs the kept entries must equal input / keep_prob "
        "(multiply the input by the mask, then divide by keep_prob)",
        y,
        _reference_inverted_dropout(x, 0.6, _kept(y)),
        _inverted_dropout_mistakes(x, 0.6, _kept(y)),
        rtol=1e-5,
        atol=1e-6,
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
    inference = np.asarray(model(ones[:8], training=False))
    check_value(
        f"{name} in a keras.Sequential: model(x, training=False) (inference) changed the input",
        inference,
        _reference_inverted_dropout(ones[:8], keep_prob, None, training=False),
        _inverted_dropout_mistakes(ones[:8], keep_prob, _kept(inference), training=False),
    )
    passed(name)


# ---- exercise 4: the early-stopping rule -----------------------------------------------------------------------
def _reference_early_stopping_epoch(dev_losses, patience):
    """(stop_epoch, best_epoch) of `keras.callbacks.EarlyStopping(monitor="val_loss", patience)` on `dev_losses`.

    ```
    best_epoch = first epoch of the lowest loss so far; stop at the first epoch with
                 epoch - best_epoch >= patience (else at the last epoch)
    ```
    """
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
_EARLY_STOPPING_CASES = [
    ([0.9, 0.7, 0.6, 0.55, 0.56, 0.58, 0.6, 0.61, 0.65, 0.7], 3),
    ([0.9, 0.5, 0.6, 0.5, 0.7, 0.8, 0.9], 2),
    ([1.0, 0.8, 0.9, 0.85, 0.95, 0.82, 1.1, 1.2, 0.7], 4),
    ([1.0, 0.9, 0.8, 0.7, 0.6], 2),
    ([0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55], 1),
    ([0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55], 3),
]


def _early_stopping_epoch_mistakes(dev_losses, patience):
    """(message, wrong (stop_epoch, best_epoch)) pairs for `early_stopping_epoch(dev_losses, patience)`."""
    losses = [float(loss) for loss in dev_losses]
    stop_epoch, best_epoch = expected = _reference_early_stopping_epoch(losses, patience)

    # Waiting counted from the previous epoch's loss, not the best one (the best epoch is still the lowest loss).
    previous_rule = (len(losses) - 1, int(np.argmin(losses)))
    wait = 0
    for epoch in range(1, len(losses)):
        wait = 0 if losses[epoch] < losses[epoch - 1] else wait + 1
        if wait >= patience:
            previous_rule = (epoch, int(np.argmin(losses[: epoch + 1])))
            break

    mistakes = [
        (
            f"the pair is the wrong way round: return (stop_epoch, best_epoch) = {expected}",
            (best_epoch, stop_epoch),
        ),
        (
            f"epochs are counted from 0 (like Keras's `epoch` argument): expected {expected}",
            (stop_epoch + 1, best_epoch + 1),
        ),
        (
            "you stopped one epoch late: stop as soon as `patience` epochs in a row brought no new best "
            "(wait >= patience, not wait > patience)",
            _reference_early_stopping_epoch(losses, patience + 1),
        ),
        (
            "you stopped one epoch early: stop when `patience` epochs in a row brought no new best "
            "(wait >= patience), counting from 0 after each new best",
            _reference_early_stopping_epoch(losses, max(patience - 1, 0)),
        ),
        (
            "you compared each loss with the previous epoch's; compare it with the best "
            "loss so far (a small dip that does not beat the best is no improvement)",
            previous_rule,
        ),
        (
            "you counted a loss equal to the best as an improvement; only a strictly lower loss is a "
            "new best (as in Keras)",
            # Each loss lowered by a hair more than the one before: a later tie becomes a strictly lower loss.
            _reference_early_stopping_epoch(
                [loss - 1e-6 * epoch for epoch, loss in enumerate(losses)], patience
            ),
        ),
    ]
    return [
        (f"{message}. Expected (stop_epoch, best_epoch) = {expected}", wrong) for message, wrong in mistakes
    ]


def check_early_stopping_epoch(early_stopping_epoch):
    """Checks `early_stopping_epoch(dev_losses, patience)` -> (stop_epoch, best_epoch) against Keras's EarlyStopping."""
    for dev_losses, patience in _EARLY_STOPPING_CASES:
        where = f"early_stopping_epoch({dev_losses}, patience={patience})"
        result = early_stopping_epoch(list(dev_losses), patience)
        expect_true(
            where,
            isinstance(result, tuple | list) and len(result) == 2,
            f"must return a pair (stop_epoch, best_epoch), got {result!r}",
        )
        check_value(
            f"{where} = (stop_epoch, best_epoch), as keras.callbacks.EarlyStopping (best_epoch is the epoch of "
            "the lowest dev loss seen up to the stop, the first one on a tie)",
            result,
            _reference_early_stopping_epoch(dev_losses, patience),
            _early_stopping_epoch_mistakes(dev_losses, patience),
            rtol=0,
            atol=0,
        )
    passed("early_stopping_epoch")


# ---- exercise 5: the EarlyStopping callback --------------------------------------------------------------------
def _reference_early_stopping_callback(patience):
    """Early stopping on the dev loss that restores the best weights: Keras's `EarlyStopping`."""
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def check_early_stopping_callback(make_early_stopping):
    """Checks `make_early_stopping(patience)`: EarlyStopping on val_loss, minimizing, restoring the best weights.

    The callback's settings are compared one by one with the reference's (no numeric answer to diagnose).
    """
    import keras

    for patience in (5, 2):
        where = f"make_early_stopping(patience={patience})"
        callback = make_early_stopping(patience)
        expect_true(
            where,
            isinstance(callback, keras.callbacks.EarlyStopping),
            f"must return a keras.callbacks.EarlyStopping, got {type(callback).__name__}",
        )
        reference = _reference_early_stopping_callback(patience)
        if callback.monitor == "loss":
            fail(
                where,
                "monitor='loss' watches the TRAINING loss, which keeps falling while the network overfits; "
                "monitor the dev loss, 'val_loss'",
            )
        expect_true(
            where,
            callback.monitor == reference.monitor,
            f"monitor must be {reference.monitor!r} (the dev loss), got {callback.monitor!r}",
        )
        expect_true(
            where,
            callback.mode in ("min", reference.mode),
            f"a loss is minimized: mode must be 'min' (or {reference.mode!r}), got {callback.mode!r}",
        )
        check_value(f"{where}: patience must be the argument", callback.patience, reference.patience)
        expect_true(
            where,
            callback.restore_best_weights is reference.restore_best_weights,
            f"restore_best_weights must be {reference.restore_best_weights}: otherwise the model keeps the "
            "weights of the last epoch, `patience` epochs past the best one",
        )
        check_value(
            f"{where}: keep the default min_delta=0 (any lower dev loss is an improvement)",
            float(callback.min_delta),
            float(reference.min_delta),
            rtol=0,
            atol=0,
        )
        expect_true(
            where,
            callback.start_from_epoch == reference.start_from_epoch
            and callback.baseline is reference.baseline,
            f"keep the defaults start_from_epoch={reference.start_from_epoch} and baseline={reference.baseline}",
        )
    passed("make_early_stopping")


# ---- exercise 6: data augmentation -----------------------------------------------------------------------------
def _reference_augmentation(seed=None):
    """An augmentation pipeline for 8x8 digits: shift by at most 1 pixel, rotate by at most 15 degrees, zoom by
    at most 10%, filling the new border with the background 0. No flips: a mirrored digit is another symbol."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomTranslation(1 / 8, 1 / 8, fill_mode="constant", seed=seed),
            keras.layers.RandomRotation(15 / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed),
        ]
    )


def check_augmentation(build_augmentation, images):
    """Checks `build_augmentation(seed)` on a batch of digit `images` of shape (n, 8, 8, 1) in [0, 1].

    The pipeline must be a `keras.Sequential` of image preprocessing layers, without horizontal flips; keep the
    shape and float32 dtype; be the identity at inference (as the reference pipeline); change images in training,
    but only a little (an augmented digit still looks like the original). Augmentations are random, so training
    outputs are checked by their statistics, not against the reference's.
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
    check_value(
        f"{where}: pipeline(x, training=False) changed the images: augmentation must be the identity at inference",
        inference,
        _reference_augmentation(seed=1)(images, training=False),
        rtol=0,
        atol=1e-6,
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
