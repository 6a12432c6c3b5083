"""Batch normalization with its backward pass written by hand (`keras.ops.custom_gradient`)."""

import keras
from keras import ops

from dlkit._backend import check_custom_gradient_backend
from dlkit._checks import check_bool, check_float, check_int


def _check_epsilon_axes(epsilon, axes):
    epsilon = check_float("epsilon", epsilon, minimum=0.0, min_inclusive=False)
    if isinstance(axes, int):
        axes = (axes,)
    try:
        axes = tuple(check_int("axes", a) for a in axes)
    except TypeError:
        raise ValueError(f"Argument `axes` must be a tuple of integers. Received: axes={axes!r}") from None
    if not axes:
        raise ValueError("Argument `axes` must name at least one axis. Received: axes=()")
    return epsilon, axes


def _batch_moments(x, axes):
    # Mean and biased variance (kept dims); `batch_norm` also calls it outside the custom-gradient function.
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(x - mean), axis=axes, keepdims=True)
    return mean, variance


def batch_norm_forward(x, gamma, beta, epsilon=1e-3, axes=(0,)):
    """Batch-normalizes `x` over `axes` with the batch's own statistics (the training-mode forward pass).

    ```
    mu = mean(x, axes);  var = mean((x - mu)**2, axes)        # biased variance, as in Keras
    x_hat = (x - mu) / sqrt(var + epsilon)
    y = gamma * x_hat + beta
    ```

    Example:

    >>> y, cache = batch_norm_forward(x, gamma, beta, 1e-3, axes=(0,))
    >>> dx, dgamma, dbeta = batch_norm_backward(dy, cache)

    Args:
        x: Float tensor.
        gamma: Float tensor broadcastable to `x` (shape 1 on `axes`), or None for a scale of 1.
        beta: Float tensor broadcastable to `x`, or None for an offset of 0.
        epsilon: Float > 0. Added to the variance.
        axes: Tuple of ints. The axes averaged over (all but the feature axis).

    Returns:
        `(y, cache)`: the output and the tuple `(x_hat, inv_std, gamma, axes)` that the backward pass needs;
        `mean` and `variance` (kept dims) are `cache[4]` and `cache[5]`.

    Raises:
        ValueError: on `epsilon` <= 0 or `axes` that are not integers.
    """
    epsilon, axes = _check_epsilon_axes(epsilon, axes)
    mean, variance = _batch_moments(x, axes)
    inv_std = ops.rsqrt(variance + epsilon)
    x_hat = (x - mean) * inv_std
    y = x_hat
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, (x_hat, inv_std, gamma, axes, mean, variance)


def batch_norm_backward(dy, cache):
    """The hand-written gradient of `batch_norm_forward`, in the compact form of the BN lab.

    With m the number of values averaged per feature and sums over the batch axes:

    ```
    dbeta  = sum(dy)
    dgamma = sum(dy * x_hat)
    dx     = (1/m) * gamma * (var + eps)**-0.5 * (m * dy - sum(dy) - x_hat * sum(dy * x_hat))
    ```

    (Ioffe & Szegedy, 2015, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
    Covariate Shift", section 3; the compact form folds the chain rule through mu and var into one line.)

    Args:
        dy: Float tensor, the upstream gradient (shape of `x`).
        cache: The second value returned by `batch_norm_forward`.

    Returns:
        `(dx, dgamma, dbeta)`; `dgamma`/`dbeta` have the shape of `gamma`/`beta` (kept dims) and are None where
        those were None.
    """
    x_hat, inv_std, gamma, axes = cache[:4]
    m = ops.cast(ops.size(dy) // ops.size(inv_std), dy.dtype)
    sum_dy = ops.sum(dy, axis=axes, keepdims=True)
    sum_dy_xhat = ops.sum(dy * x_hat, axis=axes, keepdims=True)
    scale = inv_std / m if gamma is None else gamma * inv_std / m
    dx = scale * (m * dy - sum_dy - x_hat * sum_dy_xhat)
    dgamma = None if gamma is None else sum_dy_xhat
    dbeta = sum_dy
    return dx, dgamma, dbeta


def batch_norm(x, gamma, beta, epsilon=1e-3, axes=(0,)):
    """Training-mode batch norm whose gradient is `batch_norm_backward` (not autodiff).

    Args:
        x: Float tensor.
        gamma: Float tensor broadcastable to `x` (kept dims).
        beta: Float tensor broadcastable to `x` (kept dims).
        epsilon: Float > 0.
        axes: Tuple of ints averaged over.

    Returns:
        `(y, mean, variance)`, with `mean`/`variance` of the batch (kept dims) for the moving averages; no
        gradient flows through them.

    Raises:
        ValueError: on `epsilon` <= 0 or `axes` that are not integers.
        NotImplementedError: on a backend that cannot run the hand-written gradient (none of TensorFlow, JAX
            and PyTorch; see `dlkit._backend.check_custom_gradient_backend`).
    """
    epsilon, axes = _check_epsilon_axes(epsilon, axes)
    check_custom_gradient_backend("dlkit's batch norm", "keras.layers.BatchNormalization")
    # Tensors, not NumPy arrays: torch's `autograd.Function` (behind `custom_gradient` there) saves its inputs.
    x, gamma, beta = (None if t is None else ops.convert_to_tensor(t) for t in (x, gamma, beta))

    # One output only: Keras's torch wrapper passes a single upstream gradient, and the statistics carry no
    # gradient anyway, so they are recomputed (same formula, same values) outside.
    @ops.custom_gradient
    def _bn(x, gamma, beta):
        y, cache = batch_norm_forward(x, gamma, beta, epsilon, axes)

        # TensorFlow and JAX pass the upstream gradient positionally, torch as `upstream=` (after the inputs).
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            # Looked up at call time, so the hand-written backward pass is the one that runs (tests patch it).
            return batch_norm_backward(upstream, cache)

        return y, grad

    mean, variance = _batch_moments(ops.stop_gradient(x), axes)
    return _bn(x, gamma, beta), mean, variance


@keras.saving.register_keras_serializable(package="dlkit")
class BatchNorm(keras.layers.Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) with a hand-written backward pass.

    Same semantics and weights as `keras.layers.BatchNormalization` (without renorm, masking or
    synchronization): batch statistics in training, moving averages at inference.

    ```
    training:   mu, var = batch mean and (biased) variance over all axes but `axis`
                y = gamma * (x - mu) / sqrt(var + epsilon) + beta          # gradient: batch_norm_backward
                moving_mean     = moving_mean * momentum + mu  * (1 - momentum)
                moving_variance = moving_variance * momentum + var * (1 - momentum)
    inference:  y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta
    ```

    As in Keras, a layer with `trainable=False` runs in inference mode even in `fit`.

    Example:

    >>> model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64), BatchNorm(),
    ...                           keras.layers.ReLU(), keras.layers.Dense(1)])

    Args:
        axis: Integer. The feature axis (normalized per feature); -1 for channels-last.
        momentum: Float in [0, 1]. Momentum of the moving averages.
        epsilon: Float > 0. Added to the variance.
        center: Boolean. Whether to learn an offset `beta`.
        scale: Boolean. Whether to learn a scale `gamma`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor with the shape of the input.

    Raises:
        ValueError: on a non-integer `axis`, `momentum` outside [0, 1], `epsilon` <= 0, or (at build) an `axis`
            outside the input's rank.
        NotImplementedError: in training on a backend that cannot run the hand-written gradient (none of
            TensorFlow, JAX and PyTorch; see `dlkit._backend.check_custom_gradient_backend`); inference runs on
            every backend.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int("axis", axis)
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, min_inclusive=False)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.supports_masking = False

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Argument `axis` is out of bounds for input shape {input_shape}. Received: axis={self.axis}"
            )
        self._axis = self.axis % rank
        self._reduction_axes = tuple(i for i in range(rank) if i != self._axis)
        self._broadcast_shape = [1] * rank
        self._broadcast_shape[self._axis] = input_shape[self._axis]
        shape = (input_shape[self._axis],)
        self.gamma = self.add_weight(shape=shape, name="gamma", initializer="ones") if self.scale else None
        self.beta = self.add_weight(shape=shape, name="beta", initializer="zeros") if self.center else None
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer="ones", trainable=False
        )
        self.input_spec = keras.layers.InputSpec(ndim=rank, axes={self._axis: input_shape[self._axis]})

    def _param(self, variable, dtype):
        # Per-feature vector -> shape broadcastable to x (1 everywhere but the feature axis).
        return ops.reshape(ops.cast(variable, dtype), self._broadcast_shape)

    def call(self, inputs, training=None):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        # Half-precision statistics lose too much; compute in float32 and cast back, as Keras does.
        inputs = ops.cast(inputs, "float32") if dtype in ("float16", "bfloat16") else inputs
        gamma = (
            self._param(self.gamma, inputs.dtype)
            if self.scale
            else ops.ones(self._broadcast_shape, inputs.dtype)
        )
        beta = (
            self._param(self.beta, inputs.dtype)
            if self.center
            else ops.zeros(self._broadcast_shape, inputs.dtype)
        )
        if training and self.trainable:
            outputs, mean, variance = batch_norm(inputs, gamma, beta, self.epsilon, self._reduction_axes)
            mean = ops.cast(ops.reshape(mean, [-1]), self.moving_mean.dtype)
            variance = ops.cast(ops.reshape(variance, [-1]), self.moving_variance.dtype)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            mean = self._param(self.moving_mean, inputs.dtype)
            variance = self._param(self.moving_variance, inputs.dtype)
            outputs = gamma * (inputs - mean) * ops.rsqrt(variance + self.epsilon) + beta
        return ops.cast(outputs, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
            }
        )
        return config
