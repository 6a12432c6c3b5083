"""The lab 02 checks accept correct regularization code and reject the usual mistakes with a message naming them."""

import re

import keras
import numpy as np
import pytest

import dlkit
from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import regularization as checks


# ---- L2 cost ---------------------------------------------------------------------------------------------------
def l2_cost(weights, lambd, m):
    return lambd / (2 * m) * sum(float(np.sum(w**2)) for w in weights)


def test_l2_cost_accepts_reference(capsys):
    checks.check_l2_cost(l2_cost)
    assert "l2_regularization_cost: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda w, lambd, m: lambd / m * sum(np.sum(x**2) for x in w), "lambd / m"),
        (lambda w, lambd, m: lambd / 2 * sum(np.sum(x**2) for x in w), "did not divide by m"),
        (lambda w, lambd, m: lambd / (2 * m) * sum(np.linalg.norm(x) for x in w), "squares"),
        (lambda w, lambd, m: lambd / (2 * m) * sum(np.mean(x**2) for x in w), "np.mean"),
        (lambda w, lambd, m: lambd / (2 * m) * np.sum(w[0] ** 2) if w else 0.0, "only the first"),
        (lambda w, lambd, m: np.array([l2_cost(w, lambd, m)] * 2), "single number"),
        (lambda w, lambd, m: l2_cost(w, lambd, m) + 0.01, "values differ"),
    ],
)
def test_l2_cost_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_l2_cost(function)


def _squares(weights):
    return [float(np.sum(w**2)) for w in weights]


def _norms(weights):
    return [float(np.linalg.norm(w)) for w in weights]


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda w, lambd, m: lambd / m * sum(_squares(w)),
            "you used lambd / m; the cost term is lambd / (2 m) times the sum of squares "
            "(the 1/2 makes its gradient (lambd / m) W)",
        ),
        (
            lambda w, lambd, m: lambd / 2 * sum(_squares(w)),
            "you did not divide by m: the term is lambd / (2 m) * sum ||W||^2, with m the number of training "
            "examples",
        ),
        (lambda w, lambd, m: lambd * sum(_squares(w)), "the factor lambd / (2 m) is missing"),
        (
            lambda w, lambd, m: lambd / (2 * m) * sum(_norms(w)),
            "you added the Frobenius norms ||W||_F; the cost uses their squares, sum(W ** 2) over every entry",
        ),
        (
            lambda w, lambd, m: lambd / (2 * m) * sum(float(np.mean(x**2)) for x in w),
            "you averaged the squares (np.mean); the Frobenius norm squared is their sum (np.sum)",
        ),
        (
            lambda w, lambd, m: lambd / (2 * m) * (_squares(w)[0] if w else 0.0),
            "only the first weight matrix is counted: add up every layer's ||W||_F^2",
        ),
        (
            lambda w, lambd, m: lambd / (2 * m) * (_squares(w)[-1] if w else 0.0),
            "only the last weight matrix is counted: add up every layer's ||W||_F^2",
        ),
        (
            lambda w, lambd, m: lambd / (2 * m) * sum(_norms(w)) ** 2,
            "you squared the sum of the norms; add up the squared norms",
        ),
    ],
)
def test_l2_cost_names_each_known_mistake(function, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message) + r"\. Expected"):
        checks.check_l2_cost(function)


# ---- Keras L2 --------------------------------------------------------------------------------------------------
def test_keras_l2_accepts_reference(capsys):
    checks.check_keras_l2(lambda lambd, m: keras.regularizers.L2(l2=lambd / (2 * m)))
    assert "keras_l2_regularizer: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda lambd, m: keras.regularizers.L2(l2=lambd / m), "twice too large"),
        (lambda lambd, m: keras.regularizers.L2(l2=lambd), "ignores m"),
        (lambda lambd, m: keras.regularizers.L2(l2=lambd / 2), "ignores m"),
        (lambda lambd, m: keras.regularizers.L1(l1=lambd / (2 * m)), "keras.regularizers.L2 instance"),
        (lambda lambd, m: lambd / (2 * m), "keras.regularizers.L2 instance"),
    ],
)
def test_keras_l2_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_keras_l2(function)


@pytest.mark.parametrize(
    "factor, message",
    [
        (
            lambda lambd, m: lambd / m,
            "l2 = lambd / m is twice too large: Keras adds l2 * sum(W ** 2) with no 1/2, so the course's "
            "lambd / (2 m) * ||W||^2 needs l2 = lambd / (2 m)",
        ),
        (
            lambda lambd, m: lambd,
            "l2 = lambd ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
        ),
        (
            lambda lambd, m: lambd / 2,
            "l2 = lambd / 2 ignores m: Keras adds l2 * sum(W ** 2) to the mean loss, so l2 = lambd / (2 m)",
        ),
        (
            lambda lambd, m: lambd / (2 * 32),
            "l2 uses a batch size of 32 instead of m, the number of training examples",
        ),
    ],
)
def test_keras_l2_names_each_known_mistake(factor, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message) + r"\. Expected l2="):
        checks.check_keras_l2(lambda lambd, m: keras.regularizers.L2(l2=factor(lambd, m)))


def test_keras_l2_checks_the_penalty():
    class Doubled(keras.regularizers.L2):
        def __call__(self, x):
            return 2 * super().__call__(x)

    with pytest.raises(ExerciseCheckError, match=re.escape("the penalty Keras adds to the loss")):
        checks.check_keras_l2(lambda lambd, m: Doubled(l2=lambd / (2 * m)))


# ---- inverted dropout ------------------------------------------------------------------------------------------
def _dropout_class(
    *,
    scale="divide",
    at_inference=False,
    inference_scale=False,
    keep_where="below",
    per="entry",
    seeding="generator",
):
    """Builds an inverted-dropout layer class, correct by default, with one chosen mistake."""

    class Layer(keras.layers.Layer):
        def __init__(self, keep_prob, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.keep_prob = keep_prob
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            if not training and inference_scale:
                return inputs * self.keep_prob
            if not training and not at_inference:
                return inputs
            shape = keras.ops.shape(inputs)
            if per == "unit":
                shape = (1, shape[1])
            if seeding == "generator":
                uniform = keras.random.uniform(shape, seed=self.seed_generator)
            elif seeding == "fixed":
                uniform = keras.random.uniform(shape, seed=self.seed)
            else:
                uniform = np.random.rand(*inputs.shape).astype("float32")
            mask = uniform < self.keep_prob if keep_where == "below" else uniform >= self.keep_prob
            outputs = inputs * keras.ops.cast(mask, inputs.dtype)
            if scale == "divide":
                return outputs / self.keep_prob
            if scale == "multiply":
                return outputs * self.keep_prob
            return outputs

    return Layer


def test_dropout_accepts_reference(capsys):
    checks.check_inverted_dropout(_dropout_class())
    assert "Layer: all tests passed." in capsys.readouterr().out


def test_dropout_accepts_dlkit_layer(capsys):
    class FromRate(dlkit.layers.InvertedDropout):
        def __init__(self, keep_prob, seed=None, **kwargs):
            super().__init__(1.0 - keep_prob, seed=seed, **kwargs)

    checks.check_inverted_dropout(FromRate)
    assert "FromRate: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, message",
    [
        ({"scale": "none"}, "not scaled: divide them by keep_prob"),
        ({"scale": "multiply"}, "multiplied by keep_prob"),
        ({"at_inference": True}, "No dropout at test time"),
        ({"keep_where": "above"}, "1 - keep_prob"),
        ({"per": "unit"}, "same mask"),
        ({"seeding": "fixed"}, "same mask"),
        ({"seeding": "numpy"}, "seed"),
    ],
)
def test_dropout_rejects_mistakes(options, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_inverted_dropout(_dropout_class(**options))


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"scale": "none"},
            "the kept units are not scaled: divide them by keep_prob (inverted dropout), so that "
            "E[output] = input. Expected kept entries of input / 0.8 = input * 1.25",
        ),
        (
            {"scale": "multiply"},
            "the kept units were multiplied by keep_prob (0.8); divide them by it (1 / 0.8 = 1.25)",
        ),
        (
            {"at_inference": True},
            "at inference (training False or None) the layer must return the input unchanged. No dropout at "
            "test time; the 1/keep_prob scaling in training already keeps the expected activations the same",
        ),
        (
            {"inference_scale": True},
            "at inference you multiplied the input by keep_prob (0.8), as the original (not inverted) dropout "
            "does; inverted dropout scales in training and returns the input unchanged at test time",
        ),
        (
            {"keep_where": "above"},
            "about 1 - keep_prob = 20% of the units were kept: keep a unit where uniform < keep_prob "
            "(keep_prob is the probability of KEEPING a unit)",
        ),
    ],
)
def test_dropout_names_each_known_mistake(options, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_inverted_dropout(_dropout_class(**options))


def test_dropout_rejects_wrong_kept_values():
    class Layer(_dropout_class()):
        def call(self, inputs, training=None):
            outputs = super().call(inputs, training)
            return outputs * 1.1 if training else outputs

    with pytest.raises(ExerciseCheckError, match=re.escape("values differ")):
        checks.check_inverted_dropout(Layer)


# ---- early stopping --------------------------------------------------------------------------------------------
def patience_rule(dev_losses, patience):
    best, best_epoch = np.inf, 0
    for epoch, loss in enumerate(dev_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(dev_losses) - 1, best_epoch


def test_early_stopping_epoch_accepts_reference(capsys):
    checks.check_early_stopping_epoch(patience_rule)
    assert "early_stopping_epoch: all tests passed." in capsys.readouterr().out


# The answers on the check's cases, worked out by hand: (dev losses, patience) -> (stop_epoch, best_epoch).
_HAND_COMPUTED = {
    # best 0.55 at epoch 3, then 3 epochs without a new best
    ((0.9, 0.7, 0.6, 0.55, 0.56, 0.58, 0.6, 0.61, 0.65, 0.7), 3): (6, 3),
    # the tie at epoch 3 is no new best: 2 epochs without one
    ((0.9, 0.5, 0.6, 0.5, 0.7, 0.8, 0.9), 2): (3, 1),
    # 0.82 at epoch 5 does not beat 0.8: the 4th epoch without a new best
    ((1.0, 0.8, 0.9, 0.85, 0.95, 0.82, 1.1, 1.2, 0.7), 4): (5, 1),
    # always improving: runs to the last epoch
    ((1.0, 0.9, 0.8, 0.7, 0.6), 2): (4, 4),
    ((0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55), 1): (1, 0),
    # 0.49 at epoch 2 is a new best; epochs 3, 4, 5 are not
    ((0.5, 0.52, 0.49, 0.53, 0.51, 0.5, 0.54, 0.55), 3): (5, 2),
}


def test_early_stopping_epoch_accepts_hand_computed_answers(capsys):
    for (dev_losses, patience), answer in _HAND_COMPUTED.items():
        assert patience_rule(list(dev_losses), patience) == answer
    checks.check_early_stopping_epoch(
        lambda dev_losses, patience: _HAND_COMPUTED[tuple(dev_losses), patience]
    )
    assert "early_stopping_epoch: all tests passed." in capsys.readouterr().out


def _late(dev_losses, patience):
    return patience_rule(dev_losses, patience + 1)


def _previous(dev_losses, patience):
    wait, best, best_epoch = 0, np.inf, 0
    for epoch, loss in enumerate(dev_losses):
        wait = 0 if epoch == 0 or loss < dev_losses[epoch - 1] else wait + 1
        if loss < best:
            best, best_epoch = loss, epoch
        if wait >= patience:
            return epoch, best_epoch
    return len(dev_losses) - 1, best_epoch


def _ties(dev_losses, patience):
    best, best_epoch = np.inf, 0
    for epoch, loss in enumerate(dev_losses):
        if loss <= best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(dev_losses) - 1, best_epoch


@pytest.mark.parametrize(
    "function, message",
    [
        (_late, "one epoch late"),
        (lambda d, p: patience_rule(d, max(p - 1, 0)), "one epoch early"),
        (_previous, "previous epoch"),
        (_ties, "equal to the best"),
        (lambda d, p: patience_rule(d, p)[::-1], "wrong way round"),
        (lambda d, p: tuple(v + 1 for v in patience_rule(d, p)), "counted from 0"),
        (lambda d, p: patience_rule(d, p)[0], "pair"),
    ],
)
def test_early_stopping_epoch_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_early_stopping_epoch(function)


@pytest.mark.parametrize(
    "function, message",
    [
        (
            _late,
            "you stopped one epoch late: stop as soon as `patience` epochs in a row brought no new best "
            "(wait >= patience, not wait > patience). Expected (stop_epoch, best_epoch) = (6, 3)",
        ),
        (
            lambda d, p: patience_rule(d, max(p - 1, 0)),
            "you stopped one epoch early: stop when `patience` epochs in a row brought no new best "
            "(wait >= patience), counting from 0 after each new best. Expected (stop_epoch, best_epoch) = (6, 3)",
        ),
        (
            _previous,
            "you compared each loss with the previous epoch's; compare it with the best loss so far (a small dip "
            "that does not beat the best is no improvement). Expected (stop_epoch, best_epoch) = (3, 1)",
        ),
        (
            _ties,
            "you counted a loss equal to the best as an improvement; only a strictly lower loss is a new best "
            "(as in Keras). Expected (stop_epoch, best_epoch) = (3, 1)",
        ),
        (
            lambda d, p: patience_rule(d, p)[::-1],
            "the pair is the wrong way round: return (stop_epoch, best_epoch) = (6, 3)",
        ),
        (
            lambda d, p: tuple(v + 1 for v in patience_rule(d, p)),
            "epochs are counted from 0 (like Keras's `epoch` argument): expected (6, 3)",
        ),
    ],
)
def test_early_stopping_epoch_names_each_known_mistake(function, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_early_stopping_epoch(function)


def test_early_stopping_epoch_rejects_a_wrong_best_epoch():
    with pytest.raises(ExerciseCheckError, match=re.escape("best_epoch is the epoch of the lowest dev loss")):
        checks.check_early_stopping_epoch(lambda d, p: (patience_rule(d, p)[0], 0))


def test_early_stopping_callback_accepts_reference(capsys):
    checks.check_early_stopping_callback(
        lambda patience: keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True
        )
    )
    assert "make_early_stopping: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda p: keras.callbacks.EarlyStopping(monitor="loss", patience=p, restore_best_weights=True),
            "TRAINING",
        ),
        (lambda p: keras.callbacks.EarlyStopping(monitor="val_loss", patience=p), "restore_best_weights"),
        (
            lambda p: keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=3, restore_best_weights=True
            ),
            "patience",
        ),
        (
            lambda p: keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=p, mode="max", restore_best_weights=True
            ),
            "mode",
        ),
        (lambda p: p, "keras.callbacks.EarlyStopping"),
    ],
)
def test_early_stopping_callback_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_early_stopping_callback(function)


# ---- augmentation ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return dlkit.datasets.load_digits(seed=0).x_train[:32]


def _pipeline(translation=0.125, rotation=15 / 360, zoom=0.1, flip=None, seeded=True):
    def build_augmentation(seed=None):
        s = seed if seeded else None
        layers = [keras.Input((8, 8, 1))]
        if flip:
            layers.append(keras.layers.RandomFlip(flip, seed=s))
        layers += [
            keras.layers.RandomTranslation(translation, translation, fill_mode="constant", seed=s),
            keras.layers.RandomRotation(rotation, fill_mode="constant", seed=s),
            keras.layers.RandomZoom(zoom, fill_mode="constant", seed=s),
        ]
        return keras.Sequential(layers)

    return build_augmentation


def test_augmentation_accepts_reference(digits, capsys):
    checks.check_augmentation(_pipeline(), digits)
    assert "build_augmentation: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (_pipeline(flip="horizontal"), "mirrored digit"),
        (_pipeline(flip="vertical"), "upside-down"),
        (_pipeline(translation=0.5, rotation=0.5, zoom=0.5), "too different"),
        (_pipeline(seeded=False), "pass `seed`"),
        (
            lambda seed=None: keras.Sequential(
                [
                    keras.Input((8, 8, 1)),
                    keras.layers.RandomRotation(0.04, seed=seed),
                    keras.layers.RandomZoom(0.1, seed=seed),
                ]
            ),
            "missing",
        ),
        (lambda seed=None: [keras.layers.RandomRotation(0.04)], "keras.Sequential"),
    ],
)
def test_augmentation_rejects_mistakes(digits, function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_augmentation(function, digits)
