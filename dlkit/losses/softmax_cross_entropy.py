"""Softmax cross-entropy on logits, with the hand-written gradient (y_hat - y)."""

import keras
from keras import ops

from dlkit._backend import check_custom_gradient_backend


def softmax_cross_entropy_backward(upstream, log_probs, labels):
    """The hand-written gradient of `softmax_cross_entropy` with respect to the logits.

    ```
    d loss_i / d z_i = upstream_i * (softmax(z_i) - y_i)        # softmax(z) = exp(log_softmax(z))
    ```

    Args:
        upstream: Float tensor `logits.shape[:-1]`: the gradient reaching each example's loss (1/m under a mean).
        log_probs: Float tensor `(..., num_classes)`: log softmax of the logits.
        labels: Float tensor of the shape of `log_probs`: one-hot (or soft) labels.

    Returns:
        A float tensor of the shape of `log_probs`.
    """
    return upstream[..., None] * (ops.exp(log_probs) - labels)


def softmax_cross_entropy(y_true, logits, sparse=False):
    """Per-example cross-entropy of softmax(logits), log-sum-exp stable, with a hand-written gradient.

    ```
    log_softmax = z - max(z) - log(sum(exp(z - max(z))))       # log-sum-exp trick: no overflow
    loss_i = -sum_k y_ik * log_softmax_ik
    d loss_i / d z_i = softmax(z_i) - y_i                      # the (y_hat - y) of the course
    ```

    Averaged over a batch of m examples (Keras's default reduction) the gradient is (y_hat - y) / m.

    Example:

    >>> softmax_cross_entropy([[0.0, 1.0]], [[2.0, 3.0]])   # [0.3133]

    Args:
        y_true: One-hot (or soft) labels of the shape of `logits`, or integer class ids of shape
            `logits.shape[:-1]` when `sparse=True`.
        logits: Float tensor `(..., num_classes)`: the scores before softmax.
        sparse: Boolean. Whether `y_true` holds integer class ids.

    Returns:
        A float tensor of shape `logits.shape[:-1]`: the loss of each example. Its gradient with respect to
        `logits` is `softmax(logits) - y` (no gradient flows to `y_true`).

    Raises:
        ValueError: if `sparse` is not a boolean.
        NotImplementedError: on a backend that cannot run the hand-written gradient (none of TensorFlow, JAX
            and PyTorch; see `dlkit._backend.check_custom_gradient_backend`).
    """
    if not isinstance(sparse, bool):
        raise ValueError(f"Argument `sparse` must be a boolean. Received: sparse={sparse!r}")
    check_custom_gradient_backend(
        "dlkit's softmax cross-entropy", "keras.losses.CategoricalCrossentropy(from_logits=True)"
    )
    logits = ops.convert_to_tensor(logits)
    if not keras.backend.is_float_dtype(logits.dtype):
        logits = ops.cast(logits, "float32")
    if sparse:
        labels = ops.cast(ops.reshape(y_true, ops.shape(logits)[:-1]), "int32")
        labels = ops.one_hot(labels, ops.shape(logits)[-1], dtype=logits.dtype)
    else:
        labels = ops.cast(y_true, logits.dtype)
    labels = ops.stop_gradient(labels)

    # The labels are an argument (with a zero gradient), not a closure: JAX's custom gradients must not close
    # over traced values.
    @ops.custom_gradient
    def _loss(z, labels):
        shifted = z - ops.max(z, axis=-1, keepdims=True)
        log_sum_exp = ops.log(ops.sum(ops.exp(shifted), axis=-1, keepdims=True))
        log_probs = shifted - log_sum_exp
        loss = -ops.sum(labels * log_probs, axis=-1)

        # TensorFlow and JAX pass the upstream gradient positionally, torch as `upstream=` (after the inputs).
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            # Looked up at call time, so the hand-written gradient is the one that runs (tests patch it).
            return softmax_cross_entropy_backward(upstream, log_probs, labels), ops.zeros_like(labels)

        return loss, grad

    return _loss(logits, labels)


@keras.saving.register_keras_serializable(package="dlkit")
class SoftmaxCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy on logits with the hand-written gradient (y_hat - y) / m.

    Same values as `keras.losses.CategoricalCrossentropy(from_logits=True)` (or the `Sparse` one when
    `sparse=True`); the gradient is not autodiff but the course's formula (see `softmax_cross_entropy`).

    ```
    loss = mean_i( -sum_k y_ik * log softmax(z_i)_k )       # log-sum-exp stable
    dloss/dz = (softmax(z) - y) / m
    ```

    Example:

    >>> model.compile(optimizer="adam", loss=SoftmaxCrossEntropy(sparse=True))  # last layer: Dense(k), no softmax

    Args:
        sparse: Boolean. Whether the labels are integer class ids (else one-hot).
        name: String. The loss's name.
        reduction: String. Keras reduction: "sum_over_batch_size" (default), "sum", "mean", or None.
        dtype: The loss's dtype.

    Returns:
        A `keras.losses.Loss`; called as `loss(y_true, logits)`.

    Raises:
        ValueError: if `sparse` is not a boolean.
    """

    def __init__(
        self, sparse=False, name="softmax_cross_entropy", reduction="sum_over_batch_size", dtype=None
    ):
        if not isinstance(sparse, bool):
            raise ValueError(f"Argument `sparse` must be a boolean. Received: sparse={sparse!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.sparse = sparse

    def call(self, y_true, y_pred):
        return softmax_cross_entropy(y_true, y_pred, sparse=self.sparse)

    def get_config(self):
        config = super().get_config()
        config.update({"sparse": self.sparse})
        return config
