"""Counts dead units (silent on every example of a probe batch), layer by layer, during training."""

import keras
import numpy as np

from dlkit._checks import check_float
from dlkit.diagnostics.activation_statistics import activation_layers, dead_fraction, layer_probe


class DeadUnitMonitor(keras.callbacks.Callback):
    """Logs the fraction of dead units of every hidden activation layer at the end of each epoch.

    ```
    at train begin and at the end of each epoch, on the probe batch x_probe (inference mode):
        for each hidden activation layer l:
            dead[l] = mean_u all(|a_l[..., u]| <= threshold)   # units whose output is 0 on every example
        logs["dead_fraction_<l.name>"] = dead[l]              # -> history.history
    ```

    A ReLU unit whose pre-activation is negative for every input outputs 0 and gets zero gradient, so it never
    recovers: a too large learning rate or a large negative bias kills a share of the units for good (cs231n,
    "dying ReLU"). The monitored layers are those of `dlkit.diagnostics.activation_layers(model)`: every layer
    with a nonlinear `activation` and every activation layer, the output layer left out.

    Example:

    >>> monitor = dlkit.callbacks.DeadUnitMonitor(x_train[:512])
    >>> history = model.fit(x_train, y_train, epochs=10, callbacks=[monitor], verbose=0)
    >>> history.history["dead_fraction_dense"]    # one value per epoch
    >>> monitor.initial, monitor.dead_fractions   # before training; {layer: [per epoch]}

    Args:
        x_probe: Array. The probe batch (a few hundred training examples).
        threshold: Float >= 0. A unit is dead when |output| <= threshold on every probe example (0: exactly 0).

    Attributes:
        layer_names: List of the monitored layers' names (set when training begins).
        initial: Dict {layer name: dead fraction} measured when training begins.
        dead_fractions: Dict {layer name: list of dead fractions, one per epoch}.

    Raises:
        ValueError: on an empty probe batch, a negative threshold, or (when training begins) a model without
            hidden activation layers or symbolic inputs.
    """

    def __init__(self, x_probe, threshold=0.0):
        super().__init__()
        x_probe = np.asarray(x_probe, dtype=np.float32)
        if x_probe.ndim == 0 or x_probe.shape[0] == 0:
            raise ValueError(
                f"Argument `x_probe` must be a non-empty batch of inputs. Received: x_probe of shape {x_probe.shape}"
            )
        self.x_probe = x_probe
        self.threshold = check_float("threshold", threshold, minimum=0.0)
        self.layer_names, self.initial, self.dead_fractions = [], {}, {}
        self._probe = None

    def measure(self):
        """The dead fraction of each monitored layer of `self.model` now: {layer name: float}."""
        if self._probe is None or self._probe_model is not self.model:
            layers = activation_layers(self.model)
            self.layer_names = [layer.name for layer in layers]
            self._probe, self._probe_model = layer_probe(self.model, layers), self.model
        outputs = self._probe(self.x_probe, training=False)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        return {
            name: dead_fraction(keras.ops.convert_to_numpy(out), self.threshold)
            for name, out in zip(self.layer_names, outputs, strict=True)
        }

    def on_train_begin(self, logs=None):
        self.initial = self.measure()
        for name in self.layer_names:
            self.dead_fractions.setdefault(name, [])

    def on_epoch_end(self, epoch, logs=None):
        for name, fraction in self.measure().items():
            self.dead_fractions.setdefault(name, []).append(fraction)
            if logs is not None:
                logs[f"dead_fraction_{name}"] = fraction
