"""Per-layer statistics of a network's activations: mean, spread, saturated and dead units (cs231n's pictures)."""

import keras
import numpy as np

from dlkit._checks import check_float

# Layers that are nothing but an elementwise activation: their pre-activation is their input.
_ACTIVATION_LAYERS = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
)


def _has_nonlinear_activation(layer):
    activation = getattr(layer, "activation", None)
    return activation is not None and activation is not keras.activations.linear


def activation_layers(model):
    """The layers of `model` whose outputs are activations, the model's output layer left out.

    A layer counts if it applies a nonlinear `activation` of its own (`Dense(..., activation="relu")`, a
    convolution with one) or is a standalone elementwise activation layer (`Activation`, `ReLU`, `LeakyReLU`,
    `PReLU`, `ELU`). The last layer is the output (a softmax or sigmoid that reads as probabilities), not a
    hidden layer, so it is not monitored.

    Args:
        model: A built Keras `Sequential` or functional model.

    Returns:
        A list of layers, in the model's order.

    Raises:
        ValueError: if `model` is not a Keras model, or has no such hidden layer.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"Argument `model` must be a Keras model. Received: model of type {type(model).__name__}"
        )
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    chosen = [
        layer
        for layer in layers[:-1]
        if isinstance(layer, _ACTIVATION_LAYERS) or _has_nonlinear_activation(layer)
    ]
    if not chosen:
        raise ValueError(
            "Argument `model` must have a hidden layer with a nonlinear activation (a Dense or Conv layer with "
            f"`activation=`, or an activation layer) before its output layer. Received: model={model.name!r}"
        )
    return chosen


def layer_probe(model, layers, *, inputs=False):
    """A Keras model from `model`'s inputs to the outputs (and, with `inputs=True`, the inputs) of `layers`.

    Raises:
        ValueError: if `model` has no symbolic inputs (a subclassed model, or a Sequential never built).
    """
    try:
        outputs = [layer.output for layer in layers]
        if inputs:
            outputs = [layer.input for layer in layers] + outputs
        model_inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        return keras.Model(model_inputs, outputs)
    except (AttributeError, ValueError, TypeError) as error:
        raise ValueError(
            "Argument `model` must be a built Sequential or functional model (start it with `keras.Input`) so "
            f"that its layers' outputs can be read. Received: model={model.name!r} ({error})"
        ) from None


def dead_fraction(activations, threshold=0.0):
    """The fraction of units (last axis) whose |output| <= threshold on every example (and position).

    ```
    dead[u] = all(|a[..., u]| <= threshold)       # over the batch and any spatial axes
    dead_fraction = mean_u dead[u]
    ```
    """
    a = np.abs(np.asarray(activations, dtype=np.float64))
    a = a.reshape(-1, a.shape[-1])
    return float(np.mean(np.all(a <= threshold, axis=0)))


def _elementwise_derivative(activation, z):
    """phi'(z) of an elementwise activation, by the active backend's autodiff (d sum(phi(z)) / dz = phi'(z))."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        z = tf.convert_to_tensor(z)
        with tf.GradientTape() as tape:
            tape.watch(z)
            total = tf.reduce_sum(activation(z))
        derivative = tape.gradient(total, z)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        derivative = jax.grad(lambda t: jnp.sum(activation(t)))(jnp.asarray(z))
    elif backend == "torch":
        import torch

        t = torch.tensor(np.asarray(z), requires_grad=True)
        activation(t).sum().backward()
        derivative = t.grad
    else:
        raise ValueError(
            "`activation_statistics` differentiates activations with TensorFlow, JAX or PyTorch. "
            f"Received: keras.backend.backend()={backend!r}"
        )
    if derivative is None:  # the activation does not depend on z (TensorFlow returns None)
        return np.zeros(np.shape(z))
    return np.asarray(keras.ops.convert_to_numpy(derivative), dtype=np.float64)


def _pre_activation_and_derivative(layer, layer_input):
    """(z, phi'(z)) of a layer: z is the input of an activation layer, or a Dense/Conv layer's linear part."""
    if isinstance(layer, _ACTIVATION_LAYERS):
        z, activation = keras.ops.convert_to_numpy(layer_input), layer
    else:
        activation = layer.activation
        layer.activation = keras.activations.linear  # the layer's own linear part, weights untouched
        try:
            z = keras.ops.convert_to_numpy(layer(layer_input, training=False))
        finally:
            layer.activation = activation
    z = np.asarray(z, dtype=keras.backend.floatx())
    return z.astype(np.float64), _elementwise_derivative(activation, z)


def activation_statistics(model, x, *, saturation_threshold=0.01, dead_threshold=0.0):
    """Per hidden layer: the mean and standard deviation of its activations, its saturated and dead fractions.

    ```
    for each hidden activation layer l (see `activation_layers`), on the batch x (inference mode):
        a = phi(z)                        # z: the layer's pre-activation, a: its output
        mean[l], std[l] = mean(a), std(a)                     # over every entry
        saturated[l] = mean(|phi'(z)| < saturation_threshold) # fraction of entries whose local gradient ~ 0
        dead[l]      = mean_u all(|a[..., u]| <= dead_threshold)   # fraction of units silent on all of x
    ```

    `phi'(z)` is computed by automatic differentiation of the layer's own activation, so it holds for any
    elementwise activation: a sigmoid saturates where sigma(z)(1 - sigma(z)) < 0.01 (|z| > 4.6), a ReLU wherever
    z < 0. A *dead* unit outputs 0 for every example, so no gradient ever reaches its weights (Leaky ReLU, ELU
    and SELU units are never exactly 0 on negative inputs, so they are never dead).

    Example:

    >>> stats = dlkit.diagnostics.activation_statistics(model, x_train[:256])
    >>> stats["dense"]["saturated_fraction"], stats["dense_1"]["dead_fraction"]

    Args:
        model: A built Keras `Sequential` or functional model (with `keras.Input`).
        x: Array. A batch of inputs for the model (a probe batch).
        saturation_threshold: Float > 0. An entry is saturated when |phi'(z)| is below it (cs231n: 0.01).
        dead_threshold: Float >= 0. A unit is dead when |a| <= dead_threshold on every example.

    Returns:
        Dict {layer name: {"mean", "std", "saturated_fraction", "dead_fraction"}} of floats, in layer order.

    Raises:
        ValueError: on a model without hidden activation layers or without symbolic inputs, an empty `x`, or
            thresholds out of range.
    """
    saturation_threshold = check_float(
        "saturation_threshold", saturation_threshold, minimum=0.0, min_inclusive=False
    )
    dead_threshold = check_float("dead_threshold", dead_threshold, minimum=0.0)
    layers = activation_layers(model)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"Argument `x` must be a non-empty batch of inputs. Received: x of shape {x.shape}")
    probe = layer_probe(model, layers, inputs=True)
    values = probe(x, training=False)
    values = values if isinstance(values, list | tuple) else [values]
    inputs, outputs = values[: len(layers)], values[len(layers) :]
    stats = {}
    for layer, layer_input, output in zip(layers, inputs, outputs, strict=True):
        a = np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float64)
        _, derivative = _pre_activation_and_derivative(layer, layer_input)
        stats[layer.name] = {
            "mean": float(a.mean()),
            "std": float(a.std()),
            "saturated_fraction": float(np.mean(np.abs(derivative) < saturation_threshold)),
            "dead_fraction": dead_fraction(a, dead_threshold),
        }
    return stats
