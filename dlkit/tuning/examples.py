"""Ready-made search scripts for `DistributedSearch`: every process of a distributed search calls the same one."""

import keras
import keras_tuner

import dlkit
from dlkit._checks import check_int


class _RandomSearch(keras_tuner.RandomSearch):
    """`RandomSearch` that imports tensorboard only when a TensorBoard callback is used.

    keras-tuner 1.4.8's `Tuner.run_trial` imports `tensorboard` on the TensorFlow backend even without a TensorBoard
    callback, and tensorflow-cpu does not install it.
    """

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        if any(type(callback).__name__ == "TensorBoard" for callback in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)


def moons_search(directory, max_trials=8, num_epochs=20, seed=0, project_name="moons"):
    """A random search over the learning rate of a tiny network on the moons data (real training).

        learning_rate ~ log-uniform on [1e-4, 1]   (hp.Float(..., sampling="log"))
        model: 2 -> Dense(16, relu) -> Dense(1, sigmoid), SGD with momentum 0.9, objective: max val_accuracy

    Run it in one process (`moons_search(tempfile.mkdtemp())`) or as a chief + workers with
    `DistributedSearch("dlkit.tuning.examples:moons_search", num_workers=2)`.

    Args:
        directory: String. The tuner's directory.
        max_trials: Integer >= 1. Trials in the whole search (shared by all workers).
        num_epochs: Integer >= 1. Epochs per trial.
        seed: Integer >= 0. Seeds the data, the oracle and each model's weights.
        project_name: String. The tuner's project name.

    Returns:
        The tuner (on the chief, after every worker has finished).
    """
    max_trials = check_int("max_trials", max_trials, minimum=1)
    num_epochs = check_int("num_epochs", num_epochs, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    data = dlkit.datasets.load_moons(num_train=300, num_test=200, noise=0.25, seed=seed)

    def build_model(hp):
        keras.utils.set_random_seed(seed)
        learning_rate = hp.Float("learning_rate", 1e-4, 1.0, sampling="log")
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            keras.optimizers.SGD(learning_rate, momentum=0.9), "binary_crossentropy", metrics=["accuracy"]
        )
        return model

    tuner = _RandomSearch(
        build_model,
        objective="val_accuracy",
        max_trials=max_trials,
        seed=seed + 1,  # keras-tuner treats seed=0 as "no seed"
        directory=directory,
        project_name=project_name,
        overwrite=True,
    )
    tuner.search(*data.train, validation_data=data.test, epochs=num_epochs, batch_size=64, verbose=0)
    return tuner
