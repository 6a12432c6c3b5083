"""A numerically stable softmax."""

import tensorflow as tf

from dlkit._checks import check_int


def softmax(logits, axis=-1):
    """Softmax that never overflows: subtract the row's max before exponentiating.

    ```
    z = logits - max(logits, axis)          # softmax(z) == softmax(logits); every exp(z) <= 1
    softmax = exp(z) / sum(exp(z), axis)
    ```

    Subtracting a constant from every logit leaves the softmax unchanged but keeps `exp` from overflowing
    (`exp(1000.)` is `inf` in float32; `exp(0.)` is 1). Same values as `keras.activations.softmax`.

    Example:

    >>> softmax(tf.constant([[1000.0, 1001.0]]))  # [[0.269, 0.731]], not nan
    >>> keras.layers.Activation(softmax)          # as a layer

    Args:
        logits: Float tensor (or array-like).
        axis: Integer. The class axis.

    Returns:
        A tensor of the shape of `logits`; entries in [0, 1] that sum to 1 along `axis`.

    Raises:
        ValueError: if `axis` is not an integer within the rank of `logits`.
    """
    logits = tf.convert_to_tensor(logits)
    if not logits.dtype.is_floating:
        logits = tf.cast(logits, tf.float32)
    rank = logits.shape.rank
    axis = check_int("axis", axis)
    if rank is not None and not -max(rank, 1) <= axis < max(rank, 1):
        raise ValueError(f"Argument `axis` is out of bounds for rank {rank}. Received: axis={axis}")
    shifted = logits - tf.stop_gradient(tf.reduce_max(logits, axis=axis, keepdims=True))
    exps = tf.exp(shifted)
    return exps / tf.reduce_sum(exps, axis=axis, keepdims=True)
