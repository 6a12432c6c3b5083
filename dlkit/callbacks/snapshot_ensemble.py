"""Snapshot ensembles (Huang et al., 2017): cyclic cosine annealing that saves one model per cycle."""

import math
import os
import re
import tempfile
import warnings

import keras

from dlkit._checks import check_float, check_int
from dlkit.callbacks._optimizer_lr import ScheduledLearningRate, current_iteration, sync_training_state
from dlkit.schedules.snapshot_cosine_decay import SnapshotCosineDecay, check_snapshot_args

_SNAPSHOT_FILE = re.compile(r"^snapshot-(\d+)\.weights\.h5$")


class SnapshotEnsemble(ScheduledLearningRate):
    """Cyclic cosine annealing that saves the weights at the end of every cycle: M models for the price of one.

    With T total steps, M = `num_snapshots` and t = optimizer iteration + 1 (1-based):

    ```
    cycle_length = ceil(T / M)
    lr(t) = initial_lr / 2 * (cos(pi * ((t - 1) mod cycle_length) / cycle_length) + 1)
    save snapshot-<k>.weights.h5 after step t when t mod cycle_length == 0 or t == T   (k = ceil(t / cycle_length))
    ```

    The numbers come from `dlkit.schedules.SnapshotCosineDecay` (the same code). T defaults to
    `epochs * steps_per_epoch` of the `fit` call; when resuming with `fit(..., initial_epoch=...)` keep `epochs`
    the full count (or pass `total_steps`). Each snapshot is written to a temporary file in `directory` and
    moved into place with `os.replace`, so a crash mid-save never leaves a corrupt snapshot. When T is not a
    multiple of the cycle length the last cycle is cut short; if ceil(T / cycle_length) < M (e.g. T=9, M=4)
    only that many cycles exist and a warning says so. A run starting from step 0 first deletes earlier
    `snapshot-*.weights.h5` files in `directory`. `ensemble(m)` builds a model averaging the last m snapshots'
    (softmax) outputs. Paper: Huang et al., "Snapshot Ensembles: Train 1, get M for free", ICLR 2017
    (arXiv:1704.00109).

    Example:

    >>> snapshots = dlkit.callbacks.SnapshotEnsemble(num_snapshots=5, initial_lr=0.1, directory="snapshots")
    >>> model.fit(x, y, epochs=50, callbacks=[snapshots])
    >>> ensemble = snapshots.ensemble(m=3)  # averages the softmax outputs of the last 3 snapshots
    >>> probabilities = ensemble.predict(x_test)

    Args:
        num_snapshots: Integer >= 1. M, the number of cycles (and snapshots).
        initial_lr: Float > 0. The rate at the start of every cycle.
        directory: String or path-like. Where the snapshots are written (created if missing).
        total_steps: Integer >= num_snapshots or None. T; None uses epochs * steps per epoch from `fit`.
        keep: Integer >= 1 or None. Keep only the newest `keep` snapshot files; None keeps them all.

    Raises:
        ValueError: on invalid arguments, when `num_snapshots` > T (also checked at train begin when T comes
            from `fit`), and at train begin when the optimizer's learning rate is a `LearningRateSchedule`.
    """

    def __init__(self, num_snapshots, initial_lr, directory, total_steps=None, keep=None):
        super().__init__()
        self.num_snapshots = check_int("num_snapshots", num_snapshots, minimum=1)
        self.initial_lr = check_float("initial_lr", initial_lr, minimum=0.0, min_inclusive=False)
        if total_steps is not None:
            check_snapshot_args(initial_lr, total_steps, num_snapshots)
        self.total_steps = total_steps
        try:
            self.directory = os.fspath(directory)
        except TypeError:
            raise ValueError(
                f"Argument `directory` must be a string or path-like. Received: directory={directory!r}"
            ) from None
        self.keep = None if keep is None else check_int("keep", keep, minimum=1)
        self.schedule = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        total_steps = self.total_steps
        if total_steps is None:
            epochs, steps = self.params.get("epochs"), self.params.get("steps")
            if not epochs or not steps:
                raise ValueError(
                    "`SnapshotEnsemble` cannot infer the number of steps from `fit` (unknown steps per epoch): "
                    "pass `total_steps`."
                )
            total_steps = int(epochs) * int(steps)
        self.schedule = SnapshotCosineDecay(self.initial_lr, total_steps, self.num_snapshots)
        num_cycles = math.ceil(total_steps / self.schedule.cycle_length)
        if num_cycles < self.num_snapshots:
            warnings.warn(
                f"With total_steps={total_steps} and num_snapshots={self.num_snapshots} the cycle length is "
                f"ceil(T / M) = {self.schedule.cycle_length} steps, which fits only {num_cycles} cycles: "
                f"{num_cycles} snapshots will be saved.",
                stacklevel=2,
            )
        os.makedirs(self.directory, exist_ok=True)
        if current_iteration(self._optimizer) == 0:
            for path in self.snapshot_paths:
                os.remove(path)

    def _rate_at(self, step):
        return self.schedule.value(step)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        t = self.step + 1  # the 1-based iteration just completed
        total, length = self.schedule.total_steps, self.schedule.cycle_length
        if t <= total and (t % length == 0 or t == total):
            self._save(math.ceil(t / length))

    def _save(self, index):
        final = os.path.join(self.directory, f"snapshot-{index:03d}.weights.h5")
        handle, temporary = tempfile.mkstemp(prefix=".snapshot-", suffix=".weights.h5", dir=self.directory)
        os.close(handle)
        sync_training_state(self.model)
        try:
            self.model.save_weights(temporary, overwrite=True)
            os.replace(temporary, final)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        if self.keep is not None:
            for path in self.snapshot_paths[: -self.keep]:
                os.remove(path)

    @property
    def snapshot_paths(self):
        """The snapshot files in `directory`, oldest cycle first."""
        if not os.path.isdir(self.directory):
            return []
        found = []
        for name in os.listdir(self.directory):
            match = _SNAPSHOT_FILE.match(name)
            if match:
                found.append((int(match.group(1)), os.path.join(self.directory, name)))
        return [path for _, path in sorted(found)]

    def ensemble(self, m=None, model=None, from_logits=False):
        """A Keras model that averages the class probabilities of the last `m` snapshots.

        ```
        ensemble(x) = mean over the last m snapshots s of softmax_s(x)
        ```

        Args:
            m: Integer >= 1 or None. How many of the newest snapshots to average; None takes all of them.
            model: A built functional or Sequential Keras model with the snapshots' architecture, or None for
                the model this callback trained.
            from_logits: Boolean. Whether the model outputs logits; if True each member's output goes through
                a softmax before averaging.

        Returns:
            An uncompiled `keras.Model` with the template's inputs and the averaged probabilities as output.

        Raises:
            ValueError: if there are no snapshots, `m` is not an integer in [1, number of snapshots], or there is
                no usable template model.
        """
        paths = self.snapshot_paths
        if not paths:
            raise ValueError(f"No snapshots in {self.directory!r}: train with this callback first.")
        m = len(paths) if m is None else check_int("m", m, minimum=1, maximum=len(paths))
        template = model if model is not None else self.model
        if template is None or not getattr(template, "inputs", None):
            raise ValueError(
                "Argument `model` must be a built functional or Sequential Keras model (with `inputs`), used as "
                f"the snapshots' architecture. Received: model={template!r}"
            )
        if not isinstance(from_logits, bool):
            raise ValueError(
                f"Argument `from_logits` must be True or False. Received: from_logits={from_logits!r}"
            )
        inputs = [keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype) for tensor in template.inputs]
        outputs = []
        for path in paths[-m:]:
            member = keras.models.clone_model(template)
            member.load_weights(path)
            # Nested models need unique names inside the ensemble.
            member.name = os.path.basename(path).split(".")[0].replace("-", "_")
            member.trainable = False
            output = member(inputs if len(inputs) > 1 else inputs[0])
            outputs.append(keras.layers.Softmax()(output) if from_logits else output)
        averaged = outputs[0] if m == 1 else keras.layers.Average()(outputs)
        return keras.Model(inputs if len(inputs) > 1 else inputs[0], averaged, name="snapshot_ensemble")
