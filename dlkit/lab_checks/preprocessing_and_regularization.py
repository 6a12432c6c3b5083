"""Visible checks for lab 11 (preprocessing and the modern regularizers): whitening from training statistics,
dropout as an ensemble, DropConnect, stochastic depth, Cutout and MixUp, L1 / L2 / elastic-net penalties.

Conventions of the lab: one example per row, NumPy float arrays. Every exercise is deterministic: the random
parts (masks, gates, patch centers, the MixUp weights and partners) are arguments, drawn by the caller.

Each exercise follows the idiom of `dlkit.lab_checks.expect`: a private NumPy reference `_reference_<name>`, a
table of known mistakes `_<name>_mistakes` (each computed by calling the reference with changed arguments or by
the wrong formula written out), and a public `check_<name>` that calls the student's function on small fixed
inputs and hands its value to `expect.check_value`.

`fix_signs` is the lab's helper for PCA outputs: an eigenvector is defined only up to its sign, so both the
reference and the student's decorrelated data are compared after flipping each column to a fixed sign.
"""

import numpy as np

from dlkit.lab_checks.expect import as_float_array, check_value, expect_shape, expect_true, fail, passed


def _call(function, *args, **kwargs):
    with np.errstate(all="ignore"):
        return function(*args, **kwargs)


def fix_signs(x):
    """Flips each column of `x` so that its largest-magnitude entry is positive (PCA's sign is arbitrary).

    Example:

    >>> fix_signs(preprocess(x_train, x_test, "pca_whiten"))

    Args:
        x: Float array (m, n).

    Returns:
        A float array (m, n).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.size == 0:
        return x
    largest = np.argmax(np.abs(x), axis=0)
    signs = np.sign(x[largest, np.arange(x.shape[1])])
    return x * np.where(signs == 0, 1.0, signs)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: preprocessing with training statistics

PREPROCESS_MODES = ("center", "normalize", "decorrelate", "pca_whiten", "zca_whiten")


def _reference_preprocess(
    x_train,
    x,
    mode,
    epsilon=1e-5,
    *,
    ddof=0,
    ascending=False,
    centre_rotation=True,
    sqrt=True,
    rotate_back=True,
):
    """`x` preprocessed with the statistics of `x_train` (cs231n, "Data Preprocessing").

    ```
    mean = mean(x_train, axis=0);  std = std(x_train, axis=0)
    cov = (x_train - mean).T @ (x_train - mean) / m;  U, S, _ = svd(cov)      # S decreasing
    center:      x - mean
    normalize:   (x - mean) / std
    decorrelate: (x - mean) @ U
    pca_whiten:  (x - mean) @ U / sqrt(S + epsilon)
    zca_whiten:  pca_whiten @ U.T
    ```

    Args:
        x_train: Float array (m, n): the training set, the only source of statistics.
        x: Float array (k, n): the data to transform.
        mode: One of PREPROCESS_MODES.
        epsilon: Float. Added to the eigenvalues before the square root.
        ddof, ascending, centre_rotation, sqrt, rotate_back: the knobs the mistake table turns (covariance
            divided by m - ddof, eigenvalues in increasing order, rotating the uncentred data, dividing by S
            instead of sqrt(S), ZCA without the rotation back).

    Returns:
        A float array (k, n); columns of decorrelate / pca_whiten with their signs fixed (`fix_signs`).
    """
    mean = x_train.mean(axis=0)
    if mode == "center":
        return x - mean
    if mode == "normalize":
        return (x - mean) / x_train.std(axis=0)
    centred = x_train - mean
    U, S, _ = np.linalg.svd(centred.T @ centred / (len(x_train) - ddof))
    if ascending:
        U, S = U[:, ::-1], S[::-1]
    rotated = ((x - mean) if centre_rotation else x) @ U
    if mode == "decorrelate":
        return fix_signs(rotated)
    white = rotated / (np.sqrt(S + epsilon) if sqrt else S + epsilon)
    if mode == "pca_whiten" or not rotate_back:
        return fix_signs(white)
    return white @ U.T


def _preprocess_mistakes(x_train, x, mode, epsilon):
    """The usual wrong preprocessings, as (message, wrong value) pairs."""
    both = np.concatenate([x_train, x])
    mistakes = [
        (
            "you computed the statistics on the data you transform (the test set): fit the mean, std and "
            "covariance on x_train only, and reuse them on dev/test",
            lambda: _reference_preprocess(x, x, mode, epsilon),
        ),
        (
            "you computed the statistics on train + test together: every statistic comes from x_train only "
            "(the test set must stay unseen)",
            lambda: _reference_preprocess(both, x, mode, epsilon),
        ),
    ]
    if mode == "normalize":
        mistakes += [
            (
                "you divided by the variance: normalize divides by the standard deviation, x_train.std(axis=0)",
                (x - x_train.mean(axis=0)) / x_train.var(axis=0),
            ),
            ("you did not subtract the mean before dividing by the std", x / x_train.std(axis=0)),
        ]
    if mode in ("decorrelate", "pca_whiten", "zca_whiten"):
        mistakes += [
            (
                "you rotated the data without centring it: (x - mean) @ U, with the training mean",
                lambda: _reference_preprocess(x_train, x, mode, epsilon, centre_rotation=False),
            ),
            (
                "your eigenvalues are in increasing order (np.linalg.eigh sorts them so): order the columns of U "
                "by decreasing eigenvalue, as np.linalg.svd(cov) returns them",
                lambda: _reference_preprocess(x_train, x, mode, epsilon, ascending=True),
            ),
        ]
    if mode in ("pca_whiten", "zca_whiten"):
        mistakes += [
            (
                "divide the covariance by m (cs231n's X.T @ X / m), not m - 1 (np.cov's default)",
                lambda: _reference_preprocess(x_train, x, mode, epsilon, ddof=1),
            ),
            (
                "you divided by the eigenvalues S + epsilon: whitening divides by their square root, "
                "np.sqrt(S + epsilon) (the standard deviations along the eigenvectors)",
                lambda: _reference_preprocess(x_train, x, mode, epsilon, sqrt=False),
            ),
            (
                "you forgot epsilon: divide by np.sqrt(S + epsilon)",
                lambda: _reference_preprocess(x_train, x, mode, 0.0),
            ),
        ]
    return mistakes


def _preprocess_data(seed, m):
    rng = np.random.default_rng(seed)
    mixing = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.2, -0.3, 0.15]])
    return rng.normal(size=(m, 3)) @ mixing * np.array([3.0, 2.0, 1.0]) + np.array([4.0, 6.0, -2.0])


def check_preprocess(preprocess):
    """Checks `preprocess(x_train, x, mode, epsilon)` for every mode, with statistics from `x_train` only."""
    x_train, x_test = _preprocess_data(0, 40), _preprocess_data(1, 8) + 1.0
    epsilon = 0.1
    for mode in PREPROCESS_MODES:
        where = f'preprocess(x_train, x_test, mode="{mode}", epsilon={epsilon}) with x_train (40, 3), x_test (8, 3)'
        train_copy, test_copy = x_train.copy(), x_test.copy()
        out = as_float_array(where, _call(preprocess, train_copy, test_copy, mode, epsilon))
        expect_true(
            where,
            np.array_equal(train_copy, x_train) and np.array_equal(test_copy, x_test),
            "your function changed its arguments in place (e.g. `x -= mean`): compute into new arrays",
        )
        expect_shape(where, out, x_test.shape)
        if mode in ("decorrelate", "pca_whiten"):
            out = fix_signs(out)  # each eigenvector's sign is arbitrary
        elif mode == "zca_whiten" and out.shape == x_test.shape:
            pca = _reference_preprocess(x_train, x_test, "pca_whiten", epsilon)
            if np.allclose(fix_signs(out), pca, rtol=1e-6, atol=1e-8):
                fail(where, "that is PCA whitening: ZCA rotates the whitened data back, x_zca = x_pca @ U.T")
        check_value(
            where,
            out,
            _reference_preprocess(x_train, x_test, mode, epsilon),
            _preprocess_mistakes(x_train, x_test, mode, epsilon),
            rtol=1e-6,
            atol=1e-8,
        )
    passed("preprocess")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: vanilla vs inverted dropout


def _reference_dropout(a, keep_prob, mask=None, inverted=True):
    """Dropout of activations `a` with a 0/1 `mask` (training) or without (mask None: test time).

    ```
    inverted:  training a * mask / keep_prob     test  a
    vanilla:   training a * mask                 test  a * keep_prob     (Srivastava et al., 2014)
    ```
    """
    if mask is None:
        return a if inverted else a * keep_prob
    return a * mask / keep_prob if inverted else a * mask


def _dropout_mistakes(a, keep_prob, mask, inverted):
    if mask is None and not inverted:
        return [
            (
                "vanilla dropout scales by keep_prob at test time (the expected activation p * a), not by "
                "1 / keep_prob",
                a / keep_prob,
            ),
            ("vanilla dropout must scale at test time: return a * keep_prob", a),
        ]
    if mask is None:
        return [
            (
                "inverted dropout does nothing at test time: the 1 / keep_prob is applied in training",
                a * keep_prob,
            ),
            ("inverted dropout does nothing at test time: return a unchanged", a / keep_prob),
        ]
    mistakes = [("you dropped the kept units: multiply by the mask, not by 1 - mask", a * (1 - mask))]
    if inverted:
        mistakes += [
            (
                "inverted dropout divides the kept units by keep_prob in training: a * mask / keep_prob",
                a * mask,
            ),
            ("divide by keep_prob, do not multiply: a * mask / keep_prob", a * mask * keep_prob),
        ]
    else:
        mistakes.append(
            (
                "vanilla dropout does not rescale in training (that is inverted dropout): return a * mask",
                a * mask / keep_prob,
            )
        )
    return mistakes


def check_dropout(dropout):
    """Checks `dropout(a, keep_prob, mask=None, inverted=True)` in training and at test time, both forms."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 6))
    mask = (rng.uniform(size=a.shape) < 0.6).astype(float)
    for inverted in (True, False):
        for with_mask in (True, False):
            given = mask if with_mask else None
            where = (
                f"dropout(a, keep_prob=0.6, mask={'mask' if with_mask else 'None'}, inverted={inverted}) "
                "with a (4, 6)"
            )
            out = as_float_array(where, _call(dropout, a.copy(), 0.6, given, inverted))
            expect_shape(where, out, a.shape)
            check_value(
                where,
                out,
                _reference_dropout(a, 0.6, given, inverted),
                _dropout_mistakes(a, 0.6, given, inverted),
            )
    passed("dropout")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: DropConnect


def _reference_drop_connect(x, W, b, keep_prob, mask=None, *, scale=True, scale_bias=False):
    """DropConnect's dense map (Wan et al., 2013), in the inverted form.

    ```
    training (mask given):  x @ (W * mask / keep_prob) + b
    inference (mask None):  x @ W + b                         # the expected weights
    ```
    """
    if mask is None:
        return x @ W + b
    out = x @ (W * mask / (keep_prob if scale else 1.0))
    return (out + b) / keep_prob if scale_bias else out + b


def _drop_connect_mistakes(x, W, b, keep_prob, mask):
    if mask is None:
        return [
            (
                "you scaled the weights by keep_prob at inference: with the 1 / keep_prob in training (the inverted "
                "form) the expected weights are W itself",
                x @ (keep_prob * W) + b,
            ),
            ("you forgot the bias", x @ W),
        ]
    return [
        (
            "divide the masked weights by keep_prob in training, so their expectation is W: "
            "x @ (W * mask / keep_prob) + b",
            _reference_drop_connect(x, W, b, keep_prob, mask, scale=False),
        ),
        (
            "the bias is not dropped nor scaled: add b after x @ (W * mask / keep_prob)",
            _reference_drop_connect(x, W, b, keep_prob, mask, scale_bias=True),
        ),
        ("you multiplied by keep_prob instead of dividing", x @ (W * mask * keep_prob) + b),
        (
            "you kept the dropped weights: multiply W by the mask, not by 1 - mask",
            x @ (W * (1 - mask) / keep_prob) + b,
        ),
    ]


def _reference_drop_connect_moments(x, W, b, keep_prob, *, factor=None, square_x=True, square_w=True):
    """Mean and variance of each unit's pre-activation over the masks, for fixed x.

    ```
    mean = x @ W + b
    var  = (1 - keep_prob) / keep_prob * (x ** 2) @ (W ** 2)
    ```
    """
    factor = (1 - keep_prob) / keep_prob if factor is None else factor
    return x @ W + b, factor * ((x**2 if square_x else x) @ (W**2 if square_w else W))


def _drop_connect_moments_mistakes(x, W, b, keep_prob):
    p = keep_prob
    return [
        (
            "that is the variance of the unscaled weights W * mask, p (1 - p) sum x^2 W^2: with the 1 / p scaling "
            "it is (1 - p) / p * sum x^2 W^2",
            _reference_drop_connect_moments(x, W, b, p, factor=p * (1 - p))[1],
        ),
        (
            "each term x_i W_ij m_ij / p has variance x_i^2 W_ij^2 (1 - p) / p: square both x and W",
            _reference_drop_connect_moments(x, W, b, p, square_x=False)[1],
        ),
        (
            "each term x_i W_ij m_ij / p has variance x_i^2 W_ij^2 (1 - p) / p: square both x and W",
            _reference_drop_connect_moments(x, W, b, p, square_w=False)[1],
        ),
        (
            "a Bernoulli(p) mask has variance p (1 - p); divided by p^2 that is (1 - p) / p, not 1 / p",
            _reference_drop_connect_moments(x, W, b, p, factor=1 / p)[1],
        ),
    ]


def check_drop_connect(drop_connect_forward, drop_connect_moments):
    """Checks `drop_connect_forward(x, W, b, keep_prob, mask=None)` and `drop_connect_moments(x, W, b, keep_prob)`."""
    rng = np.random.default_rng(3)
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    mask = (rng.uniform(size=W.shape) < 0.7).astype(float)
    for given in (mask, None):
        where = (
            f"drop_connect_forward(x, W, b, keep_prob=0.7, mask={'mask' if given is not None else 'None'})"
        )
        out = as_float_array(where, _call(drop_connect_forward, x.copy(), W.copy(), b.copy(), 0.7, given))
        if given is not None and out.shape == (5, 3) and np.allclose(out, (x @ W + b)):
            fail(where, "the mask changed nothing: multiply W element-wise by the mask in training")
        expect_shape(where, out, (5, 3))
        check_value(
            where,
            out,
            _reference_drop_connect(x, W, b, 0.7, given),
            _drop_connect_mistakes(x, W, b, 0.7, given),
        )
    where = "drop_connect_moments(x, W, b, keep_prob=0.7)"
    out = _call(drop_connect_moments, x.copy(), W.copy(), b.copy(), 0.7)
    expect_true(
        where, isinstance(out, (tuple, list)) and len(out) == 2, "must return a tuple (mean, variance)"
    )
    mean, variance = as_float_array(where, out[0]), as_float_array(where, out[1])
    expected_mean, expected_variance = _reference_drop_connect_moments(x, W, b, 0.7)
    expect_shape(f"{where}: mean", mean, (5, 3))
    check_value(
        f"{where}: mean",
        mean,
        expected_mean,
        [("the mean over the masks is x @ W + b (E[mask / keep_prob] = 1), with the bias", x @ W)],
    )
    expect_shape(f"{where}: variance", variance, (5, 3))
    check_value(
        f"{where}: variance", variance, expected_variance, _drop_connect_moments_mistakes(x, W, b, 0.7)
    )
    passed("drop_connect")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: stochastic depth


def _reference_survival_probabilities(num_blocks, final_survival_prob, *, start=1):
    """Huang et al. (2016), eq. 4: p_l = 1 - (l / L) (1 - p_L), l = 1..L."""
    layers = np.arange(start, start + num_blocks)
    return 1.0 - layers / num_blocks * (1.0 - final_survival_prob)


def _survival_probabilities_mistakes(num_blocks, final_survival_prob):
    return [
        (
            "off by one: the blocks are numbered l = 1, ..., L, so the last one survives with p_L exactly",
            _reference_survival_probabilities(num_blocks, final_survival_prob, start=0),
        ),
        (
            "the order is reversed: p_l decays from about 1 at the first block (near the input) to p_L at the last",
            _reference_survival_probabilities(num_blocks, final_survival_prob)[::-1],
        ),
        (
            "the decay is linear in l: p_l = 1 - (l / L) * (1 - p_L)",
            np.full(num_blocks, final_survival_prob),
        ),
    ]


def _reference_stochastic_depth_block(shortcut, residual, survival_prob, gate=None):
    """Huang et al. (2016), eqs. 2 and 5 (before the ReLU).

    ```
    training (gate 0 or 1):  shortcut + gate * residual
    inference (gate None):   shortcut + survival_prob * residual
    ```
    """
    if gate is None:
        return shortcut + survival_prob * residual
    return shortcut + gate * residual


def _stochastic_depth_block_mistakes(shortcut, residual, survival_prob, gate):
    if gate is None:
        return [
            (
                "at inference the residual branch is scaled by its survival probability: shortcut + p_l * residual",
                shortcut + residual,
            ),
            ("multiply the residual by p_l, do not divide", shortcut + residual / survival_prob),
            ("scale only the residual branch, not the shortcut", survival_prob * (shortcut + residual)),
        ]
    return [
        (
            "a dropped block is the identity: the shortcut always passes, y = shortcut + gate * residual",
            gate * (shortcut + residual),
        ),
        (
            "you scaled the kept residual by 1 / p_l in training: that is the inverted variant (timm's drop_path); "
            "the paper keeps it unscaled in training and scales by p_l at inference",
            shortcut + gate * residual / survival_prob,
        ),
    ]


def check_stochastic_depth(survival_probabilities, stochastic_depth_block):
    """Checks `survival_probabilities(num_blocks, final_survival_prob)` and
    `stochastic_depth_block(shortcut, residual, survival_prob, gate=None)`."""
    for num_blocks, final in ((5, 0.5), (8, 0.2)):
        where = f"survival_probabilities({num_blocks}, {final})"
        out = as_float_array(where, _call(survival_probabilities, num_blocks, final))
        expect_shape(where, out, (num_blocks,))
        check_value(
            where,
            out,
            _reference_survival_probabilities(num_blocks, final),
            _survival_probabilities_mistakes(num_blocks, final),
        )
    rng = np.random.default_rng(4)
    shortcut, residual = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for gate in (1.0, 0.0, None):
        where = f"stochastic_depth_block(shortcut, residual, survival_prob=0.75, gate={gate})"
        out = as_float_array(
            where, _call(stochastic_depth_block, shortcut.copy(), residual.copy(), 0.75, gate)
        )
        expect_shape(where, out, shortcut.shape)
        check_value(
            where,
            out,
            _reference_stochastic_depth_block(shortcut, residual, 0.75, gate),
            _stochastic_depth_block_mistakes(shortcut, residual, 0.75, gate),
        )
    passed("stochastic_depth")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: Cutout and MixUp


def _reference_cutout(images, centers, size, fill_value=0.0, *, corner=False, wrap=False):
    """Cutout (DeVries & Taylor, 2017): a size x size square around each center set to `fill_value`.

    ```
    top = cy - size // 2;  left = cx - size // 2            (corner=True: top = cy, left = cx)
    out[i, max(top, 0):top + size, max(left, 0):left + size, :] = fill_value
    ```
    """
    out = np.array(images, dtype=float, copy=True)
    for i, (cy, cx) in enumerate(np.asarray(centers)):
        top, left = (cy, cx) if corner else (cy - size // 2, cx - size // 2)
        rows = slice(top, top + size) if wrap else slice(max(top, 0), max(top + size, 0))
        cols = slice(left, left + size) if wrap else slice(max(left, 0), max(left + size, 0))
        out[i, rows, cols, :] = fill_value
    return out


def _cutout_mistakes(images, centers, size, fill_value):
    return [
        (
            "the patch must be centred on (cy, cx): it starts at row cy - size // 2 and column cx - size // 2",
            _reference_cutout(images, centers, size, fill_value, corner=True),
        ),
        (
            "near the border your patch vanished or moved: a negative slice start counts from the end in NumPy. "
            "Clip the start at 0, max(cy - size // 2, 0), and let the patch stick out of the image",
            _reference_cutout(images, centers, size, fill_value, wrap=True),
        ),
    ]


def _reference_mixup(x, y, lam, order, *, mix_labels=True):
    """MixUp (Zhang et al., 2018): convex combinations of examples and of their one-hot labels.

    ```
    x_mix[i] = lam[i] * x[i] + (1 - lam[i]) * x[order[i]]
    y_mix[i] = lam[i] * y[i] + (1 - lam[i]) * y[order[i]]
    ```
    """
    lam = np.asarray(lam, dtype=float)
    lam_x = lam.reshape((-1,) + (1,) * (x.ndim - 1))
    x_mix = lam_x * x + (1 - lam_x) * x[order]
    y_mix = lam[:, None] * y + (1 - lam[:, None]) * y[order] if mix_labels else y
    return x_mix, y_mix


def check_cutout(cutout):
    """Checks `cutout(images, centers, size, fill_value=0.0)` on centers inside and at the borders."""
    rng = np.random.default_rng(5)
    images = rng.uniform(size=(4, 6, 7, 2))
    centers = np.array([[3, 3], [0, 0], [5, 6], [1, 5]])
    for size, fill in ((2, 0.0), (3, -1.0)):
        where = f"cutout(images, centers, size={size}, fill_value={fill}) with images (4, 6, 7, 2)"
        original = images.copy()
        out = as_float_array(where, _call(cutout, images, centers.copy(), size, fill))
        expect_true(
            where,
            np.array_equal(images, original),
            "your function changed `images` in place: work on a copy (np.array(images, copy=True))",
        )
        expect_shape(where, out, images.shape)
        check_value(
            where,
            out,
            _reference_cutout(images, centers, size, fill),
            _cutout_mistakes(images, centers, size, fill),
        )
    passed("cutout")


def check_mixup(mixup):
    """Checks `mixup(x, y, lam, order)` -> (x_mix, y_mix)."""
    rng = np.random.default_rng(6)
    x, y = rng.uniform(size=(5, 3, 3, 1)), np.eye(4)[[0, 1, 2, 3, 1]]
    lam, order = np.array([0.9, 0.3, 0.5, 0.05, 0.7]), np.array([3, 0, 4, 1, 2])
    where = "mixup(x, y, lam, order) with x (5, 3, 3, 1), one-hot y (5, 4)"
    out = _call(mixup, x.copy(), y.copy(), lam.copy(), order.copy())
    expect_true(where, isinstance(out, (tuple, list)) and len(out) == 2, "must return a tuple (x_mix, y_mix)")
    x_mix, y_mix = as_float_array(where, out[0]), as_float_array(where, out[1])
    expected_x, expected_y = _reference_mixup(x, y, lam, order)
    expect_shape(f"{where}: x_mix", x_mix, x.shape)
    swapped = _reference_mixup(x, y, 1 - lam, order)
    check_value(
        f"{where}: x_mix",
        x_mix,
        expected_x,
        [("lam and 1 - lam are swapped: x_mix = lam * x + (1 - lam) * x[order]", swapped[0])],
    )
    expect_shape(f"{where}: y_mix", y_mix, y.shape)
    check_value(
        f"{where}: y_mix",
        y_mix,
        expected_y,
        [
            (
                "MixUp mixes the labels too, with the same lam and partners: y_mix = lam * y + (1 - lam) * y[order]",
                y,
            ),
            ("lam and 1 - lam are swapped: y_mix = lam * y + (1 - lam) * y[order]", swapped[1]),
        ],
    )
    passed("mixup")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: L1, L2, elastic net


def _reference_elastic_net(W, l1, l2, *, l2_factor=1.0, l2_grad_factor=2.0, l1_grad=np.sign):
    """Keras's `L1L2(l1, l2)` penalty and its gradient.

    ```
    penalty  = l1 * sum(|W|) + l2 * sum(W ** 2)
    gradient = l1 * sign(W) + 2 * l2 * W
    ```
    """
    penalty = l1 * np.sum(np.abs(W)) + l2_factor * l2 * np.sum(W**2)
    return float(penalty), l1 * l1_grad(W) + l2_grad_factor * l2 * W


def _elastic_net_mistakes(W, l1, l2):
    return {
        "penalty": [
            (
                "you used (l2 / 2) * sum(W^2): Keras's L2 penalty is l2 * sum(W^2), with no 1/2",
                _reference_elastic_net(W, l1, l2, l2_factor=0.5)[0],
            ),
            ("the L1 penalty sums |W|, not W (the signs cancel)", l1 * np.sum(W) + l2 * np.sum(W**2)),
            (
                "the penalties are sums over all weights, not means",
                l1 * np.mean(np.abs(W)) + l2 * np.mean(W**2),
            ),
        ],
        "gradient": [
            (
                "the derivative of l2 * w^2 is 2 * l2 * w (Keras's L2 has no 1/2 to cancel the 2)",
                _reference_elastic_net(W, l1, l2, l2_grad_factor=1.0)[1],
            ),
            (
                "the derivative of l1 * |w| is l1 * sign(w), not l1 * w",
                _reference_elastic_net(W, l1, l2, l1_grad=lambda w: w)[1],
            ),
            ("the gradient of |w| is sign(w) (a constant magnitude), not |w|", l1 * np.abs(W) + 2 * l2 * W),
        ],
    }


def check_elastic_net(elastic_net):
    """Checks `elastic_net(W, l1, l2)` -> (penalty, gradient) for L1, L2 and both."""
    rng = np.random.default_rng(7)
    W = rng.normal(size=(4, 3))
    for l1, l2 in ((0.1, 0.0), (0.0, 0.05), (0.02, 0.3)):
        where = f"elastic_net(W, l1={l1}, l2={l2}) with W (4, 3)"
        original = W.copy()
        out = _call(elastic_net, W, l1, l2)
        expect_true(where, np.array_equal(W, original), "your function changed W in place")
        expect_true(
            where, isinstance(out, (tuple, list)) and len(out) == 2, "must return a tuple (penalty, gradient)"
        )
        penalty, gradient = as_float_array(where, out[0]), as_float_array(where, out[1])
        expect_true(where, penalty.size == 1, f"the penalty must be one number, got shape {penalty.shape}")
        expected_penalty, expected_gradient = _reference_elastic_net(W, l1, l2)
        mistakes = _elastic_net_mistakes(W, l1, l2)
        check_value(f"{where}: penalty", penalty.reshape(()), expected_penalty, mistakes["penalty"])
        expect_shape(f"{where}: gradient", gradient, W.shape)
        check_value(f"{where}: gradient", gradient, expected_gradient, mistakes["gradient"])
    passed("elastic_net")
