"""Train-step time of the same model with a dlkit teaching layer vs the Keras built-in, side by side.

Run: .venv/bin/python benchmarks/bench_layers.py

Each pair of models has identical architecture and weights; only the layer under test differs. A "train step"
is one `model.train_on_batch` call (forward, backward, SGD update) on a fixed batch, after warm-up. The two
models are timed alternately, block by block, and the median block is reported, so load from other processes
hits both alike. Goals (issue 5): BatchNorm <= 1.3x, InvertedDropout <= 1.1x; Conv2DNaive is for teaching and
its ratio is reported as its cost.
"""

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dlkit  # noqa: E402
from dlkit.layers import BatchNorm, Conv2DNaive, InvertedDropout, MaxPool2DNaive  # noqa: E402

BLOCKS = 15
STEPS_PER_BLOCK = 5
WARMUP_STEPS = 5


def mlp(norm_or_dropout):
    layers = [keras.Input((256,))]
    for _ in range(2):
        layers += [keras.layers.Dense(512), norm_or_dropout(), keras.layers.ReLU()]
    layers.append(keras.layers.Dense(10))
    return keras.Sequential(layers)


def cnn(conv, pool):
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            conv(16, 3, padding="same"),
            keras.layers.ReLU(),
            pool(2),
            conv(32, 3, padding="valid"),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def compiled(model):
    model.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def time_pair(ours, ref, x, y):
    """Median seconds per train step of each model, measured in alternating blocks."""
    ours.set_weights(ref.get_weights())
    for model in (ours, ref):
        for _ in range(WARMUP_STEPS):
            model.train_on_batch(x, y)
    times = {"ours": [], "ref": []}
    for _ in range(BLOCKS):
        for key, model in (("ours", ours), ("ref", ref)):
            start = time.perf_counter()
            for _ in range(STEPS_PER_BLOCK):
                model.train_on_batch(x, y)
            times[key].append((time.perf_counter() - start) / STEPS_PER_BLOCK)
    return statistics.median(times["ours"]), statistics.median(times["ref"])


def main():
    dlkit.set_seed(0)
    rng = np.random.default_rng(0)
    x_vec = tf.constant(rng.normal(size=(256, 256)).astype("float32"))
    y_vec = tf.constant(rng.integers(0, 10, size=256))
    x_img = tf.constant(rng.normal(size=(64, 28, 28, 1)).astype("float32"))
    y_img = tf.constant(rng.integers(0, 10, size=64))

    cases = [
        (
            "BatchNorm vs BatchNormalization (MLP 256-512-512-10, batch 256)",
            1.3,
            lambda: mlp(BatchNorm),
            lambda: mlp(keras.layers.BatchNormalization),
            x_vec,
            y_vec,
        ),
        (
            "InvertedDropout vs Dropout (MLP 256-512-512-10, rate 0.5, batch 256)",
            1.1,
            lambda: mlp(lambda: InvertedDropout(0.5, seed=1)),
            lambda: mlp(lambda: keras.layers.Dropout(0.5, seed=1)),
            x_vec,
            y_vec,
        ),
        (
            "Conv2DNaive vs Conv2D (CNN on 28x28x1, batch 64)",
            None,
            lambda: cnn(Conv2DNaive, keras.layers.MaxPooling2D),
            lambda: cnn(keras.layers.Conv2D, keras.layers.MaxPooling2D),
            x_img,
            y_img,
        ),
        (
            "MaxPool2DNaive vs MaxPooling2D (same CNN, Keras Conv2D)",
            None,
            lambda: cnn(keras.layers.Conv2D, MaxPool2DNaive),
            lambda: cnn(keras.layers.Conv2D, keras.layers.MaxPooling2D),
            x_img,
            y_img,
        ),
    ]
    print(
        f"train-step time, median of {BLOCKS} blocks x {STEPS_PER_BLOCK} steps (TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}, {os.cpu_count()} CPUs)"
    )
    for name, goal, make_ours, make_ref, x, y in cases:
        ours_s, ref_s = time_pair(compiled(make_ours()), compiled(make_ref()), x, y)
        ratio = ours_s / ref_s
        verdict = "" if goal is None else f"  (goal <= {goal:.1f}x: {'met' if ratio <= goal else 'NOT met'})"
        print(f"{name}: dlkit {ours_s * 1e3:.2f} ms, keras {ref_s * 1e3:.2f} ms, ratio {ratio:.2f}x{verdict}")


if __name__ == "__main__":
    main()
