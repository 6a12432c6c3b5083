"""Lab 11's visible checks accept correct solutions written here (NumPy formulas, scikit-learn and Keras
built-ins, never the module's references) and name the usual mistakes."""

import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import preprocessing_and_regularization as checks

# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: preprocessing


def preprocess(x_train, x, mode, epsilon=1e-5, stats_from="train", ddof=0, eigh=False, sqrt=True):
    source = {"train": x_train, "test": x, "both": np.concatenate([x_train, x])}[stats_from]
    mean = source.mean(axis=0)
    if mode == "center":
        return x - mean
    if mode == "normalize":
        return (x - mean) / source.std(axis=0)
    cov = np.cov(source, rowvar=False, ddof=ddof)
    if eigh:
        S, U = np.linalg.eigh(cov)
    else:
        S, U = np.linalg.eigh(cov)
        S, U = S[::-1], U[:, ::-1]
    U = U * -1.0  # any sign is right
    rotated = (x - mean) @ U
    if mode == "decorrelate":
        return rotated
    white = rotated / (np.sqrt(S + epsilon) if sqrt else S + epsilon)
    return white if mode == "pca_whiten" else white @ U.T


def test_preprocess_accepts_a_correct_solution(capsys):
    checks.check_preprocess(preprocess)
    assert "preprocess: all tests passed" in capsys.readouterr().out


def test_pca_whiten_with_zero_epsilon_is_sklearn_pca_whiten_up_to_ddof():
    x_train = np.random.default_rng(0).normal(size=(30, 3)) @ np.array([[1, 0, 0], [1, 1, 0], [0, 1, 2.0]])
    m = len(x_train)
    ours = checks.fix_signs(preprocess(x_train, x_train, "pca_whiten", 0.0))
    sklearn = checks.fix_signs(PCA(whiten=True).fit_transform(x_train) * np.sqrt(m / (m - 1)))
    np.testing.assert_allclose(ours, sklearn, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stats_from": "test"}, r"statistics on the data you transform \(the test set\)"),
        ({"stats_from": "both"}, r"statistics on train \+ test together"),
        ({"ddof": 1}, r"divide the covariance by m"),
        ({"eigh": True}, "increasing order"),
        ({"sqrt": False}, "whitening divides by their square root"),
    ],
)
def test_preprocess_names_the_mistake(kwargs, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_preprocess(
            lambda x_train, x, mode, epsilon: preprocess(x_train, x, mode, epsilon, **kwargs)
        )


def test_preprocess_names_zca_without_the_rotation_back_and_a_missing_epsilon():
    def pca_for_zca(x_train, x, mode, epsilon):
        return preprocess(x_train, x, "pca_whiten" if mode == "zca_whiten" else mode, epsilon)

    with pytest.raises(ExerciseCheckError, match=r"that is PCA whitening: ZCA rotates"):
        checks.check_preprocess(pca_for_zca)
    with pytest.raises(ExerciseCheckError, match="you forgot epsilon"):
        checks.check_preprocess(lambda x_train, x, mode, epsilon: preprocess(x_train, x, mode, 0.0))
    with pytest.raises(ExerciseCheckError, match="divided by the variance"):
        checks.check_preprocess(
            lambda x_train, x, mode, epsilon: (
                (x - x_train.mean(0)) / x_train.var(0)
                if mode == "normalize"
                else preprocess(x_train, x, mode, epsilon)
            )
        )


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: dropout


def dropout(a, keep_prob, mask=None, inverted=True):
    if mask is None:
        return a if inverted else keep_prob * a
    return a * mask / keep_prob if inverted else a * mask


def test_dropout_accepts_both_forms_and_they_agree_in_expectation(capsys):
    checks.check_dropout(dropout)
    assert "dropout: all tests passed" in capsys.readouterr().out
    a, rng = np.ones((1, 20000)), np.random.default_rng(0)
    mask = (rng.uniform(size=a.shape) < 0.8).astype(float)
    assert abs(dropout(a, 0.8, mask).mean() - dropout(a, 0.8)[0, 0]) < 0.02
    assert abs(dropout(a, 0.8, mask, inverted=False).mean() - dropout(a, 0.8, inverted=False)[0, 0]) < 0.02


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            lambda a, p, mask=None, inverted=True: (
                dropout(a, 1 / p, None, False)
                if mask is None and not inverted
                else dropout(a, p, mask, inverted)
            ),
            "not by 1 / keep_prob",
        ),
        (
            lambda a, p, mask=None, inverted=True: (
                a * mask if mask is not None else dropout(a, p, mask, inverted)
            ),
            "divides the kept units by keep_prob",
        ),
        (
            lambda a, p, mask=None, inverted=True: a * p if mask is None else dropout(a, p, mask, inverted),
            "inverted dropout does nothing at test time",
        ),
    ],
)
def test_dropout_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_dropout(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: DropConnect


def drop_connect_forward(x, W, b, keep_prob, mask=None):
    if mask is None:
        return np.einsum("mi,ij->mj", x, W) + b
    return np.einsum("mi,ij->mj", x, W * mask) / keep_prob + b


def drop_connect_moments(x, W, b, keep_prob):
    return x @ W + b, (1 - keep_prob) / keep_prob * np.square(x) @ np.square(W)


def test_drop_connect_accepts_a_correct_solution_and_its_moments_match_sampling(capsys):
    checks.check_drop_connect(drop_connect_forward, drop_connect_moments)
    assert "drop_connect: all tests passed" in capsys.readouterr().out
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=(1, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    samples = np.array(
        [
            drop_connect_forward(x, W, b, 0.6, (rng.uniform(size=W.shape) < 0.6).astype(float))[0]
            for _ in range(20000)
        ]
    )
    mean, variance = drop_connect_moments(x, W, b, 0.6)
    np.testing.assert_allclose(samples.mean(axis=0), mean[0], atol=0.05)
    np.testing.assert_allclose(samples.var(axis=0), variance[0], rtol=0.05)


@pytest.mark.parametrize(
    ("forward", "moments", "message"),
    [
        (
            lambda x, W, b, p, mask=None: x @ (W * mask) + b if mask is not None else x @ W + b,
            drop_connect_moments,
            "divide the masked weights by keep_prob",
        ),
        (
            lambda x, W, b, p, mask=None: (
                x @ (p * W) + b if mask is None else drop_connect_forward(x, W, b, p, mask)
            ),
            drop_connect_moments,
            "you scaled the weights by keep_prob at inference",
        ),
        (
            drop_connect_forward,
            lambda x, W, b, p: (x @ W + b, p * (1 - p) * (x**2) @ (W**2)),
            "variance of the unscaled weights",
        ),
        (
            drop_connect_forward,
            lambda x, W, b, p: (x @ W + b, (1 - p) / p * x @ (W**2)),
            "square both x and W",
        ),
    ],
)
def test_drop_connect_names_the_mistake(forward, moments, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_drop_connect(forward, moments)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: stochastic depth


def survival_probabilities(num_blocks, final_survival_prob):
    return np.array([1 - l / num_blocks * (1 - final_survival_prob) for l in range(1, num_blocks + 1)])  # noqa: E741


def stochastic_depth_block(shortcut, residual, survival_prob, gate=None):
    return shortcut + (survival_prob if gate is None else gate) * residual


def test_stochastic_depth_accepts_the_paper_rule(capsys):
    checks.check_stochastic_depth(survival_probabilities, stochastic_depth_block)
    assert "stochastic_depth: all tests passed" in capsys.readouterr().out
    # Huang et al. 2016: with p_L = 0.5 the expected number of blocks is (3L - 1) / 4.
    assert np.isclose(survival_probabilities(54, 0.5).sum(), (3 * 54 - 1) / 4)


@pytest.mark.parametrize(
    ("survival", "block", "message"),
    [
        (
            lambda L, p: np.array([1 - k / L * (1 - p) for k in range(L)]),
            stochastic_depth_block,
            "off by one",
        ),  # noqa: E741
        (lambda L, p: survival_probabilities(L, p)[::-1], stochastic_depth_block, "reversed"),
        (
            survival_probabilities,
            lambda s, r, p, gate=None: s + r if gate is None else s + gate * r,
            "scaled by its survival probability",
        ),
        (
            survival_probabilities,
            lambda s, r, p, gate=None: s + p * r if gate is None else gate * (s + r),
            "the shortcut always passes",
        ),
        (
            survival_probabilities,
            lambda s, r, p, gate=None: s + r if gate is None else s + gate * r / p,
            "the inverted variant",
        ),
    ],
)
def test_stochastic_depth_names_the_mistake(survival, block, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_stochastic_depth(survival, block)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: Cutout and MixUp


def cutout(images, centers, size, fill_value=0.0):
    out = images.astype(float)
    height, width = images.shape[1:3]
    for i, (cy, cx) in enumerate(centers):
        rows = np.abs(np.arange(height) - (cy - size // 2) - (size - 1) / 2) <= (size - 1) / 2
        cols = np.abs(np.arange(width) - (cx - size // 2) - (size - 1) / 2) <= (size - 1) / 2
        out[i][np.ix_(rows, cols)] = fill_value
    return out


def mixup(x, y, lam, order):
    layer = keras.layers.MixUp()
    transformation = {"mix_weight": lam, "permutation_order": order}
    return (
        keras.ops.convert_to_numpy(layer.transform_images(x, transformation)).astype(float),
        keras.ops.convert_to_numpy(layer.transform_labels(y, transformation)).astype(float),
    )


def test_cutout_and_keras_mixup_pass(capsys):
    checks.check_cutout(cutout)
    checks.check_mixup(mixup)
    out = capsys.readouterr().out
    assert "cutout: all tests passed" in out and "mixup: all tests passed" in out


def _corner_cutout(images, centers, size, fill_value=0.0):
    out = images.copy()
    for i, (cy, cx) in enumerate(centers):
        out[i, cy : cy + size, cx : cx + size] = fill_value
    return out


def _wrapping_cutout(images, centers, size, fill_value=0.0):
    out = images.copy()
    for i, (cy, cx) in enumerate(centers):
        out[i, cy - size // 2 : cy - size // 2 + size, cx - size // 2 : cx - size // 2 + size] = fill_value
    return out


def _in_place_cutout(images, centers, size, fill_value=0.0):
    images[:] = cutout(images, centers, size, fill_value)
    return images


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_corner_cutout, "centred on"),
        (_wrapping_cutout, "negative slice start"),
        (_in_place_cutout, "in place"),
    ],
)
def test_cutout_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_cutout(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, y, lam, order: (mixup(x, y, lam, order)[0], y), "mixes the labels too"),
        (lambda x, y, lam, order: mixup(x, y, 1 - lam, order), "swapped"),
    ],
)
def test_mixup_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_mixup(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: elastic net


def elastic_net(W, l1, l2):
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2)
    penalty = float(regularizer(keras.ops.convert_to_tensor(W, dtype="float64")))
    return penalty, l1 * np.sign(W) + 2 * l2 * W


def test_elastic_net_accepts_keras_l1l2(capsys):
    checks.check_elastic_net(elastic_net)
    assert "elastic_net: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda W, l1, l2: (elastic_net(W, l1, l2)[0], l1 * np.sign(W) + l2 * W), "2 \\* l2 \\* w"),
        (lambda W, l1, l2: (elastic_net(W, l1, l2)[0], l1 * W + 2 * l2 * W), "l1 \\* sign\\(w\\)"),
        (
            lambda W, l1, l2: (l1 * np.abs(W).sum() + l2 / 2 * (W**2).sum(), elastic_net(W, l1, l2)[1]),
            "no 1/2",
        ),
        (lambda W, l1, l2: (l1 * W.sum() + l2 * (W**2).sum(), elastic_net(W, l1, l2)[1]), "sums \\|W\\|"),
    ],
)
def test_elastic_net_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_elastic_net(wrong)


def test_students_own_errors_pass_through():
    def unfinished(*args, **kwargs):
        raise NotImplementedError("not done")

    with pytest.raises(NotImplementedError, match="^not done$"):
        checks.check_preprocess(unfinished)
