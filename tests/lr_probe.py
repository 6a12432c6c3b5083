"""A model whose SGD steps reveal the learning rate each step really applied (shared by the schedule tests)."""

import keras
import numpy as np

# 37 samples, batch 8: 5 steps per epoch, the last one short.
X_PROBE = np.ones((37, 1), "float32")


@keras.saving.register_keras_serializable(package="dlkit_tests")
def probe_loss(y_true, y_pred):
    return keras.ops.mean(y_pred)


def lr_probe_model(learning_rate=0.1):
    """y = w * x with x = 1 and loss = mean(y): the gradient is exactly 1, so SGD moves w by -lr."""
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=probe_loss)
    return model


class AppliedLearningRate(keras.callbacks.Callback):
    """Records the rate each SGD step really applied: zero the weight before the step, read -w after it."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        self.model.layers[0].kernel.assign(np.zeros((1, 1), "float32"))

    def on_train_batch_end(self, batch, logs=None):
        self.rates.append(-float(self.model.layers[0].kernel.numpy()[0, 0]))


def fit_probe(model, epochs, initial_epoch=0, callbacks=()):
    """Fits the probe on X_PROBE; returns (applied rates per step as an array, the History)."""
    recorder = AppliedLearningRate()
    history = model.fit(
        X_PROBE,
        X_PROBE,
        batch_size=8,
        epochs=epochs,
        initial_epoch=initial_epoch,
        callbacks=[*callbacks, recorder],
        verbose=0,
        shuffle=False,
    )
    return np.array(recorder.rates), history
