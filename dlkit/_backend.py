"""Which Keras backends dlkit's hand-written gradients (`keras.ops.custom_gradient`) run on."""

import keras

# Backends refused by the hand-written gradients. `keras.ops.custom_gradient` runs them on TensorFlow and JAX
# (tested in tests/test_backends_layers.py); the numpy and openvino backends only run the forward pass, and
# cannot train, so no gradient is wrong there. On torch, Keras 3 wraps a `torch.autograd.Function` that dlkit
# cannot test (PyTorch is not one of its dependencies) and that replaces the gradient by NaN when the forward
# function does not return an `(output, grad)` pair, so dlkit refuses it rather than risk a silent wrong answer.
_UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS = ("torch",)


def check_custom_gradient_backend(what, instead):
    """Raises if the current Keras backend cannot run dlkit's hand-written gradients.

    Args:
        what: String. What needs the hand-written gradient (for the message).
        instead: String. The Keras built-in to use on that backend.

    Raises:
        NotImplementedError: on the torch backend.
    """
    backend = keras.backend.backend()
    if backend in _UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS:
        raise NotImplementedError(
            f"{what} uses a hand-written gradient (`keras.ops.custom_gradient`), which dlkit supports on the "
            f"TensorFlow and JAX backends only, not on the '{backend}' backend. Use {instead} there, or set "
            "KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax."
        )
