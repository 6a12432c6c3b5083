"""Two-sided numerical gradients, evaluated in compiled, vectorized batches of perturbed inputs.

Also holds the helpers `gradcheck` shares: float64 input conversion, the scalar-cost check and `_PerturbedCost`,
the engine that evaluates J at many perturbed copies of one input at once.
"""

import keras
import numpy as np
import tensorflow as tf

from dlkit._checks import check_float, check_int

# Perturbed elements in flight per compiled call (perturbations x perturbed elements): 2**20 float64 is 8 MiB,
# which keeps a chunk in cache-friendly sizes (4x larger chunks ran 2x slower on a 10k-parameter MLP).
_MAX_BATCH_ELEMENTS = 2**20
# Perturbations per compiled call; also bounds fn's intermediates (a model's activations per perturbation).
_MAX_CHUNK = 256
# Full mode perturbs consecutive inputs of up to this many elements in all through one compiled function (for
# small inputs tracing dominates); a larger input gets its own, so work upstream of it is shared by pfor.
_ONE_GROUP_MAX_ELEMENTS = 4096


def backend_note():
    """Why GradientTape may not see `fn`'s ops under a non-TensorFlow Keras backend ("" on TensorFlow), for messages."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return ""
    return (
        f" Keras's backend is {backend!r} (KERAS_BACKEND): keras.ops and Keras layers then compute on that "
        "backend's arrays, which GradientTape cannot differentiate. gradcheck is GradientTape-based: write J with "
        "tf.* ops, or run it with KERAS_BACKEND=tensorflow."
    )


def _input_name(value, index):
    if isinstance(value, (tf.Variable, keras.Variable)):
        return getattr(value, "path", None) or value.name.split(":")[0]
    return f"input_{index}"


def as_float64_inputs(inputs):
    """Returns (list of float64 constant tensors, default names); a single array counts as a list of one."""
    if isinstance(
        inputs, (np.ndarray, tf.Tensor, tf.Variable, keras.Variable, float, int)
    ) and not isinstance(inputs, bool):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            "Argument `inputs` must be a list of NumPy arrays, tensors or tf.Variables. "
            f"Received: inputs of type {type(inputs).__name__}"
        )
    if not inputs:
        raise ValueError("Argument `inputs` must hold at least one array. Received: inputs=[]")
    tensors, names = [], []
    for index, value in enumerate(inputs):
        try:
            array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        except Exception as error:  # noqa: BLE001 - report any conversion failure the same way
            raise ValueError(
                f"Argument `inputs[{index}]` must be array-like. Received: {type(value).__name__}"
            ) from error
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"Argument `inputs[{index}]` must hold real numbers. Received: dtype {array.dtype}"
            )
        if array.size == 0:
            raise ValueError(f"Argument `inputs[{index}]` must not be empty. Received shape {array.shape}")
        array = array.astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"Argument `inputs[{index}]` must be finite. Received NaN or inf values")
        tensors.append(tf.constant(array, dtype=tf.float64))
        names.append(_input_name(value, index))
    return tensors, names


def scalar_cost(value, where="fn"):
    """Checks that a cost is a float64 tensor with exactly one element and returns it with shape ()."""
    value = tf.convert_to_tensor(value)
    if value.dtype != tf.float64:
        raise ValueError(
            f"`{where}` must return a float64 scalar cost J (float32 rounding swamps a 2-sided difference at "
            f"epsilon=1e-7). Received dtype {value.dtype.name}; compute the cost in float64.{backend_note()}"
        )
    if value.shape.num_elements() != 1:
        raise ValueError(
            f"`{where}` must return a scalar cost J. Received a tensor of shape {tuple(value.shape)}"
        )
    return tf.reshape(value, [])


def default_chunk_size(num_elements, chunk_size=None):
    if chunk_size is not None:
        return min(check_int("chunk_size", chunk_size, minimum=1), num_elements)
    return max(1, min(num_elements, _MAX_CHUNK, _MAX_BATCH_ELEMENTS // num_elements))


class _PerturbedCost:
    """Evaluates J at many perturbed copies of the inputs, in compiled form.

    Full mode tries, in order, and keeps the first that works: "vectorized" (`tf.vectorized_map` inside a
    `tf.function`; single ops pfor cannot vectorize run in a compiled while loop), "loop" (`tf.map_fn` inside a
    `tf.function`, for fns pfor rejects outright) and "eager" (a Python loop, only for fns that cannot be traced
    at all, e.g. ones calling `.numpy()`). Fast mode needs only a few evaluations, so it calls one compiled J per
    perturbed set ("compiled"), which skips the costly vectorization of the graph, or eagerly ("eager").
    """

    def __init__(self, fn, inputs):
        self.fn = fn
        self.inputs = list(inputs)
        self.strategy = None
        self.fallback_reason = ""
        self.num_evaluations = 0
        self._compiled = {}

    def _full_function(self, group, epsilon, strategy):
        """A compiled fn: indices into the concatenated elements of the inputs in `group` -> central differences."""
        key = ("full", group, epsilon, strategy)
        if key not in self._compiled:
            bases = [self.inputs[k] for k in group]
            sizes = [base.shape.num_elements() for base in bases]

            def cost(perturbed):
                args = list(self.inputs)
                for k, value in zip(group, perturbed, strict=True):
                    args[k] = value
                return scalar_cost(self.fn(*args))

            def central_differences(indices):
                # epsilon * one_hot is exactly epsilon at one element and 0 elsewhere, so each copy is
                # theta_i + epsilon bit for bit, as in the course's `thetaplus = theta + epsilon`. Inputs outside
                # `group` stay loop-invariant, so pfor computes what depends only on them once.
                steps = tf.split(epsilon * tf.one_hot(indices, sum(sizes), dtype=tf.float64), sizes, axis=1)
                batches = []
                for base, step in zip(bases, steps, strict=True):
                    step = tf.reshape(step, [-1, *base.shape])
                    batches.append(tf.concat([base + step, base - step], axis=0))
                if strategy == "vectorized":
                    costs = tf.vectorized_map(cost, tuple(batches))
                else:
                    costs = tf.map_fn(cost, tuple(batches), fn_output_signature=tf.float64)
                count = tf.shape(indices)[0]
                return (costs[:count] - costs[count:]) / (2.0 * epsilon)

            self._compiled[key] = tf.function(
                central_differences, input_signature=[tf.TensorSpec([None], tf.int32)], autograph=False
            )
        return self._compiled[key]

    def _run(self, strategies, compiled_call, eager_call):
        strategies = strategies if self.strategy not in strategies else (self.strategy,)
        for position, strategy in enumerate(strategies):
            try:
                result = eager_call() if strategy == "eager" else compiled_call(strategy)
            except Exception as error:  # noqa: BLE001 - any failure to compile means: try the next strategy
                if position == len(strategies) - 1:
                    raise
                self.fallback_reason = f"{strategy} evaluation failed ({type(error).__name__}: {error})"[:300]
                continue
            self.strategy = strategy
            return np.asarray(result, dtype=np.float64)
        raise RuntimeError("unreachable")  # pragma: no cover

    def _groups(self, ks):
        """Inputs perturbed together: consecutive inputs packed up to 4096 elements (each group is one trace);
        a larger input alone, so that work upstream of it is shared across its perturbations."""
        groups, size = [], 0
        for k in ks:
            n = self.inputs[k].shape.num_elements()
            if groups and size + n <= _ONE_GROUP_MAX_ELEMENTS:
                groups[-1].append(k)
                size += n
            else:
                groups.append([k])
                size = n
        return [tuple(group) for group in groups]

    def full(self, ks, epsilon, chunk_size=None):
        """(J(theta + eps e_i) - J(theta - eps e_i)) / 2 eps for every element i of the inputs `ks`."""
        results = {}
        for group in self._groups(ks):
            total = sum(self.inputs[k].shape.num_elements() for k in group)
            chunk = default_chunk_size(total, chunk_size)
            self.num_evaluations += 2 * total

            def compiled_call(strategy, group=group, total=total, chunk=chunk):
                function = self._full_function(group, epsilon, strategy)
                parts = [
                    function(tf.range(start, min(start + chunk, total), dtype=tf.int32))
                    for start in range(0, total, chunk)
                ]
                return tf.concat(parts, axis=0)

            def eager_call(group=group, total=total):
                values = np.empty(total)
                flat = np.concatenate([self.inputs[k].numpy().ravel() for k in group])
                for i in range(total):
                    plus, minus = flat.copy(), flat.copy()
                    plus[i] += epsilon
                    minus[i] -= epsilon
                    values[i] = (self._eager_cost(group, plus) - self._eager_cost(group, minus)) / (
                        2.0 * epsilon
                    )
                return values

            values = self._run(("vectorized", "loop", "eager"), compiled_call, eager_call)
            offsets = np.cumsum([0] + [self.inputs[k].shape.num_elements() for k in group])
            for position, k in enumerate(group):
                results[k] = values[offsets[position] : offsets[position + 1]].reshape(self.inputs[k].shape)
        return [results[k] for k in ks]

    def _eager_cost(self, group, flat):
        args, offset = list(self.inputs), 0
        for k in group:
            size = self.inputs[k].shape.num_elements()
            args[k] = tf.constant(flat[offset : offset + size].reshape(self.inputs[k].shape))
            offset += size
        return float(scalar_cost(self.fn(*args)))

    def costs(self, sets):
        """J at each set of inputs in `sets` (a list of lists of float64 arrays), with one compiled J."""
        self.num_evaluations += len(sets)

        def compiled_call(strategy):
            if "single" not in self._compiled:
                signature = [tf.TensorSpec(t.shape, tf.float64) for t in self.inputs]
                self._compiled["single"] = tf.function(
                    lambda *args: scalar_cost(self.fn(*args)), input_signature=signature, autograph=False
                )
            function = self._compiled["single"]
            return [function(*(tf.constant(value) for value in values)) for values in sets]

        def eager_call():
            return [scalar_cost(self.fn(*(tf.constant(value) for value in values))) for values in sets]

        return self._run(("compiled", "eager"), compiled_call, eager_call)


def numerical_gradient(fn, inputs, epsilon=1e-7, *, chunk_size=None):
    """Two-sided numerical gradient of a scalar cost with respect to every element of every input.

    For each element i of each input (all in float64, the others held fixed):

    ```
    gradapprox[i] = (J(theta + epsilon * e_i) - J(theta - epsilon * e_i)) / (2 * epsilon)
    ```

    The two-sided difference has error O(epsilon**2), the one-sided (J(theta + eps) - J(theta)) / eps only
    O(epsilon) ("Numerical approximation of gradients", Deep Learning Specialization, course 2). The 2n perturbed
    costs are not computed one by one in Python: chunks of perturbed copies are built in-graph and evaluated with
    `tf.vectorized_map` inside a `tf.function`. A fn that cannot be vectorized runs in a compiled `tf.map_fn`
    loop instead, and one that cannot be traced at all in a plain Python loop (slow, but still correct).

    Example:

    >>> numerical_gradient(lambda theta: theta**3, [1.0], epsilon=0.01)[0]
    array(3.0001)

    Args:
        fn: Callable taking the tensors of `inputs` (positionally, as float64 tensors) and returning a float64
            scalar cost J.
        inputs: List of NumPy arrays, tensors, `tf.Variable`s or numbers (a single array is a list of one).
        epsilon: Float > 0. The perturbation size.
        chunk_size: Integer >= 1 or None. Perturbed copies per compiled call (None: at most 256, and at most
            2**20 perturbed float64 elements in flight), which bounds memory.

    Returns:
        A list of float64 NumPy arrays, one per input, with that input's shape.

    Raises:
        ValueError: if `fn` is not callable or does not return a float64 scalar, if `inputs` is empty or holds
            an empty or non-real array, or if `epsilon` or `chunk_size` is out of range.
    """
    if not callable(fn):
        raise ValueError(f"Argument `fn` must be callable. Received: fn={fn!r}")
    epsilon = check_float("epsilon", epsilon, minimum=0.0, min_inclusive=False)
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, minimum=1)
    tensors, _ = as_float64_inputs(inputs)
    scalar_cost(fn(*tensors))
    return _PerturbedCost(fn, tensors).full(range(len(tensors)), epsilon, chunk_size)
