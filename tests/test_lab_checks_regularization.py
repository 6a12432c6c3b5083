"""The lab 02 checks accept correct regularization code and reject the usual mistakes with a message naming them."""

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


# ---- inverted dropout ------------------------------------------------------------------------------------------
def _dropout_class(
    *, scale="divide", at_inference=False, keep_where="below", per="entry", seeding="generator"
):
    """Builds an inverted-dropout layer class, correct by default, with one chosen mistake."""

    class Layer(keras.layers.Layer):
        def __init__(self, keep_prob, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.keep_prob = keep_prob
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
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


def test_early_stopping_reference_matches_hand_computed():
    # The check's reference (Keras's callback): losses 0.9, 0.7, 0.6, 0.55 (best, epoch 3), then 3 worse epochs.
    assert checks._keras_early_stopping([0.9, 0.7, 0.6, 0.55, 0.56, 0.58, 0.6, 0.61], 3) == (6, 3)
    assert checks._keras_early_stopping([1.0, 0.9, 0.8], 2) == (2, 2)


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
