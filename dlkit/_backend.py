"""What dlkit needs to know of the Keras backend: where hand-written gradients run, and how ops execute."""

import keras

# Backends refused by the hand-written gradients: none at present. `keras.ops.custom_gradient` runs them on
# TensorFlow, JAX and PyTorch (tests/test_backends_layers.py replaces each backward function by one that
# triples its result, and the backend's own gradient function, `tf.GradientTape`, `jax.grad` or
# `torch.autograd.grad`, must triple too). The numpy and openvino backends only run the forward pass and cannot
# train, so no gradient is wrong there. A backend whose `custom_gradient` silently falls back to autodiff (or,
# as Keras's torch wrapper does when the forward function raises, to a NaN gradient) would be listed here.
_UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS = ()


def check_custom_gradient_backend(what, instead):
    """Raises if the current Keras backend cannot run dlkit's hand-written gradients.

    Args:
        what: String. What needs the hand-written gradient (for the message).
        instead: String. The Keras built-in to use on that backend.

    Raises:
        NotImplementedError: on a backend listed in `_UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS` (none at present:
            TensorFlow, JAX and PyTorch run the hand-written gradients).
    """
    backend = keras.backend.backend()
    if backend in _UNSUPPORTED_CUSTOM_GRADIENT_BACKENDS:
        raise NotImplementedError(
            f"{what} uses a hand-written gradient (`keras.ops.custom_gradient`), which dlkit supports on the "
            f"TensorFlow, JAX and PyTorch backends only, not on the '{backend}' backend. Use {instead} there, "
            "or set KERAS_BACKEND=tensorflow, KERAS_BACKEND=jax or KERAS_BACKEND=torch."
        )


def runs_op_by_op():
    """True when Keras's backend runs each op as Python calls it, i.e. PyTorch outside `torch.compile`.

    TensorFlow and JAX trace the train step once (`tf.function`, `jax.jit`), so a scalar op more costs next to
    nothing per step; PyTorch dispatches every op from Python at each step (5-10 us per scalar op on a CPU),
    where computing a scalar formula in NumPy is cheaper.

    Returns:
        Boolean.
    """
    if keras.backend.backend() != "torch":
        return False
    import torch

    return not torch.compiler.is_compiling()
