"""Train-step time of the same model with a dlkit teaching layer vs the Keras built-in, side by side.

Run: .venv/bin/python benchmarks/bench_layers.py [--quick] [--repeats N]

Each pair of models has identical architecture and weights; only the layer under test differs. A "train step"
is one `model.train_on_batch` call (forward, backward, SGD update) on a fixed batch. The pair is timed by
`_timing.compare`: 5 untimed warm-up steps per model (the first traces the train function), then `--repeats`
(default 25) rounds alternating the order (dlkit keras, keras dlkit, ...), each sample being 5 consecutive
steps of one model; the table gives min/median/max ms per step per model, and the goals are judged on the
ratio of the medians (dlkit / keras), with its 95% interval (a goal is met or not only when the whole
interval says so, else undecided). Goals (issue 5): BatchNorm <= 1.3x, InvertedDropout <= 1.1x;
Conv2DNaive and MaxPool2DNaive are for teaching and their ratios are informational (their cost).

`--quick` uses narrower layers, smaller batches and 5 timed rounds (a smoke run; verdicts only indicative).
It runs on the active Keras backend (`KERAS_BACKEND`); `benchmarks/bench_backends.py` runs it on each one.
`--json PATH` also writes the verdicts (name, ratio, interval, goal, verdict) for that driver.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _timing import compare, verdict  # noqa: E402

import dlkit  # noqa: E402
from dlkit.layers import BatchNorm, Conv2DNaive, InvertedDropout, MaxPool2DNaive  # noqa: E402

STEPS_PER_SAMPLE = 5
WARMUP_STEPS = 5


def mlp(norm_or_dropout, width, features):
    layers = [keras.Input((features,))]
    for _ in range(2):
        layers += [keras.layers.Dense(width), norm_or_dropout(), keras.layers.ReLU()]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small layers and batches, 5 timed rounds")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per pair (default 25)")
    parser.add_argument("--json", default=None, help="also write the verdicts to this JSON file")
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (5 if args.quick else 25)
    features, width, batch, img_batch = (64, 128, 64, 16) if args.quick else (256, 512, 256, 64)

    dlkit.set_seed(0)
    rng = np.random.default_rng(0)
    # NumPy batches: `train_on_batch` converts them on every backend.
    x_vec = rng.normal(size=(batch, features)).astype("float32")
    y_vec = rng.integers(0, 10, size=batch)
    x_img = rng.normal(size=(img_batch, 28, 28, 1)).astype("float32")
    y_img = rng.integers(0, 10, size=img_batch)

    mlp_name = f"MLP {features}-{width}-{width}-10, batch {batch}"
    cases = [
        (
            f"BatchNorm vs BatchNormalization ({mlp_name})",
            1.3,
            lambda: mlp(BatchNorm, width, features),
            lambda: mlp(keras.layers.BatchNormalization, width, features),
            x_vec,
            y_vec,
        ),
        (
            f"InvertedDropout vs Dropout ({mlp_name}, rate 0.5)",
            1.1,
            lambda: mlp(lambda: InvertedDropout(0.5, seed=1), width, features),
            lambda: mlp(lambda: keras.layers.Dropout(0.5, seed=1), width, features),
            x_vec,
            y_vec,
        ),
        (
            f"Conv2DNaive vs Conv2D (CNN on 28x28x1, batch {img_batch})",
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
        f"train-step time per model (Keras {keras.__version__} on {keras.backend.backend()}, "
        f"{os.cpu_count()} CPUs)"
    )
    verdicts, rows = [], []
    for name, goal, make_ours, make_ref, x, y in cases:
        ours, ref = compiled(make_ours()), compiled(make_ref())
        ours.set_weights(ref.get_weights())
        timings = compare(
            {
                "dlkit": lambda model=ours, x=x, y=y: model.train_on_batch(x, y),
                "keras": lambda model=ref, x=x, y=y: model.train_on_batch(x, y),
            },
            repeats,
            warmup=WARMUP_STEPS,
            number=STEPS_PER_SAMPLE,
            reference="keras",
            label="dlkit/keras",
            title=name,
        )
        ratio, interval = timings["dlkit"].ratio, timings["dlkit"].ratio_interval
        judged = None if goal is None else verdict(interval, goal, at_least=False)
        rows.append(
            {
                "name": name.split(" (")[0],
                "ratio": ratio,
                "interval": list(interval),
                "goal": f"<= {goal}" if goal else None,
                "verdict": judged,
            }
        )
        span = "95% CI {:.2f}-{:.2f}".format(*interval)
        if goal is None:
            print(f"    ratio of medians {ratio:.2f}x ({span}; informational, no goal)")
        else:
            verdicts.append(judged)
            note = " (--quick sizes: indicative only)" if args.quick else ""
            print(f"    ratio of medians {ratio:.2f}x ({span}; goal <= {goal:.1f}x: {judged}){note}")
    print(f"goals met: {verdicts.count('met')} of {len(verdicts)} (NOT met: {verdicts.count('NOT met')})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()
