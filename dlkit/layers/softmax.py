"""A numerically stable softmax."""

import keras
from keras import ops

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

    >>> softmax(np.array([[1000.0, 1001.0]]))  # [[0.269, 0.731]], not nan
    >>> keras.layers.Activation(softmax)          # as a layer

    Args:
        logits: Float tensor (or array-like).
        axis: Integer. The class axis.

    Returns:
        A tensor of the shape of `logits`; entries in [0, 1] that sum to 1 along `axis`.

    Raises:
        ValueError: if `axis` is not an integer within the rank of `logits`.
    """
    logits = ops.convert_to_tensor(logits)
    if not keras.backend.is_float_dtype(logits.dtype):
        logits = ops.cast(logits, "float32")
    rank = logits.ndim  # None for a TensorFlow tensor of unknown rank
    axis = check_int("axis", axis)
    if rank is not None and not -max(rank, 1) <= axis < max(rank, 1):
        raise ValueError(f"Argument `axis` is out of bounds for rank {rank}. Received: axis={axis}")
    shifted = logits - ops.stop_gradient(ops.max(logits, axis=axis, keepdims=True))
    exps = ops.exp(shifted)
    return exps / ops.sum(exps, axis=axis, keepdims=True)
