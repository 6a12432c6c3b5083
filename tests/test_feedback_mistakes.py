"""The student's feedback names a known mistake, per exercise of every lab, and never a hidden test's key.

For each graded lab, one submission is the lab's own source with one small textual mutation per exercise (MISTAKES:
lab -> {solution cell: (old text, new text, fragment)}, `old` replaced once inside the cell's `### BEGIN SOLUTION`
region). Each mutation reproduces one entry of that exercise's table of known mistakes in `dlkit.lab_checks`
(`_<name>_mistakes`, see `dlkit.lab_checks.expect`), so the visible check raises `ExerciseCheckError` with that
entry's message, and `fragment` is a distinctive piece of it. Where an exercise's check has no such table (its
answer is open-ended), the mutation triggers another of that check's own specific diagnoses, said in a comment.

Exercises whose check cell calls the student's functions of earlier exercises (lab 08's gradient step and
training loop) get submissions of their own (SEPARATE): there a mistake upstream would hide theirs. Elsewhere an
upstream mutation is chosen that leaves the later checks' inputs right (lab 07 ex1 keeps the cache ex2 uses).

One `grade` call (two sandboxed runs at a time) grades all these submissions against `labs/`; then, per lab and
per mutated exercise: 0 points, status "wrong", the fragment in the exercise's message, in the student's JSON
view (`SubmissionGrade.to_dict()`) and in the HTML feedback page (HTML-escaped, as the page writes it); and no
hidden-test key (the literal `record("KEY", ...)` keys of the lab's check cells, read as the grader reads them)
and no instructor `reason` anywhere in what the student gets.

Exercises left out: none.
"""

import glob
import html
import json
import os
import re

import nbformat
import pytest
from lab_references import lab_references

from dlkit.grading import grade, write_gradebook
from dlkit.grading.assemble import load_source, solution_ids_of
from dlkit.grading.gradebook import feedback_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS_DIR = os.path.join(ROOT, "labs")

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# lab -> {solution cell's grade_id: (old text, new text, fragment of the visible check's message)}.
MISTAKES = {
    "01_initialization": {
        "ex1_zeros_init": ("np.zeros((n_in, n_out))", "np.ones((n_in, n_out))", "you used np.ones"),
        "ex2_random_init": (
            "np.random.randn(n_in, n_out) * scale",
            "np.random.randn(n_in, n_out) * 10.0",
            "you used a fixed 10: multiply by the `scale` argument",
        ),
        "ex3_he_init": (
            "np.sqrt(2.0 / n_in)",
            "np.sqrt(2.0 / n_out)",
            "you scaled with n_l, the layer's own units (fan_out)",
        ),
        "ex4_xavier_init": (
            "variance = 1.0 / n_in if",
            "variance = 2.0 / n_in if",
            "that is He (2 / n_{l-1})",
        ),
    },
    "02_regularization": {
        "ex1_l2_cost": ("lambd / (2 * m)", "lambd / m", "you used lambd / m"),
        "ex2_keras_l2": ("l2=lambd / (2 * m)", "l2=lambd / m", "l2 = lambd / m is twice too large"),
        "ex3_inverted_dropout": (
            "keras.ops.cast(keep, inputs.dtype) / self.keep_prob",
            "keras.ops.cast(keep, inputs.dtype)",
            "the kept units are not scaled",
        ),
        "ex4_patience_rule": ("if wait >= patience:", "if wait > patience:", "you stopped one epoch late"),
        "ex5_early_stopping_callback": (
            'monitor="val_loss"',
            'monitor="loss"',
            "monitor='loss' watches the TRAINING loss",
        ),
        # No table of mistakes (any augmentation that meets the properties is right): a horizontal flip, which
        # the check names.
        "ex6_augmentation": (
            'keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed),',
            'keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed),\n'
            '        keras.layers.RandomFlip("horizontal", seed=seed),',
            "flips horizontally",
        ),
    },
    "03_gradient_checking": {
        "ex1_two_sided": ("/ (2 * epsilon)", "/ epsilon", "you divided by epsilon"),
        "ex2_relative_difference": (
            "np.linalg.norm(np.ravel(grad)) + np.linalg.norm(np.ravel(gradapprox))",
            "np.linalg.norm(np.ravel(grad) + np.ravel(gradapprox))",
            "the denominator is ||grad||_2 + ||gradapprox||_2",
        ),
        "ex3_backward": ("dW2 = 1.0 / m * dZ2", "dW2 = 2.0 / m * dZ2", "is 2 times the true gradient"),
        "ex4_l2_gradient": (
            "lambd / m * W",
            "lambd / (2 * m) * W",
            "the 2 of the derivative of ||W||^2 cancels the 1/2",
        ),
    },
    "04_optimization": {
        "ex1_mini_batches": (
            "shuffled_X, shuffled_Y = X[permutation], Y[permutation]",
            "shuffled_X, shuffled_Y = X, Y",
            "the examples come out in their original order",
        ),
        "ex2_ewma": (
            "v / (1 - beta**t) if bias_correction else v",
            "v",
            "no bias correction: with bias_correction=True return v_t / (1 - beta**t)",
        ),
        "ex3_momentum": (
            "w = w - learning_rate * v",
            "w = w + learning_rate * v",
            "climbs the cost: subtract",
        ),
        "ex4_rmsprop": (
            "np.sqrt(s) + epsilon",
            "np.sqrt(s + epsilon)",
            "epsilon is inside the square root",
        ),
        "ex5_adam": (
            "v_hat / (np.sqrt(s_hat) + epsilon)",
            "v_hat / (s_hat + epsilon)",
            "the update uses v_hat / s_hat",
        ),
        "ex6_lr_decay": (
            "np.floor(epoch_num / time_interval)",
            "(epoch_num / time_interval)",
            "the decay is not stepped",
        ),
        "ex7_adamw": (
            "w = w - learning_rate * weight_decay * w\n",
            "w = w\n",
            "the weights were not decayed: this is plain Adam",
        ),
    },
    "05_hyperparameter_tuning": {
        "ex1_log_uniform": (
            "r = np.log10(low) + (np.log10(high) - np.log10(low)) * np.random.rand(num_samples)",
            "r = -4 * np.random.rand(num_samples)",
            "you still sampled [1e-4, 1]",
        ),
        "ex2_beta_sampler": (
            "r = r_low + (r_high - r_low) * np.random.rand(num_samples)",
            "r = r_high - (r_high - r_low) * np.random.rand(num_samples)",
            "you drew r from the high end",
        ),
        "ex3_narrow_range": (
            'np.argsort(-scores, kind="stable")',
            'np.argsort(scores, kind="stable")',
            "LOWEST scores: higher scores are better",
        ),
    },
    "06_learning_rate_schedules": {
        "ex1_triangular_clr": ("max(0.0, 1 - x)", "max(0.0, x)", "the triangle is upside down"),
        "ex2_linear_warmup": (
            "* step / warmup_steps",
            "* (step + 1) / warmup_steps",
            "the ramp is one step ahead",
        ),
        "ex3_snapshot_lr": ("math.ceil(T / M)", "math.floor(T / M)", "the cycle length is floor(T / M)"),
        "ex4_average_predictions": (
            "np.mean(outputs, axis=0)",
            "np.sum(outputs, axis=0)",
            "the probabilities are summed, not averaged",
        ),
    },
    "07_batch_normalization": {
        # Not the unbiased variance: ex2's check builds its cache with the student's batchnorm_forward, and a
        # wrong z_hat or inv_std in it would hide ex2's own mistake. Swapping gamma and beta leaves the cache right.
        "ex1_batchnorm_forward": (
            "out = gamma * z_hat + beta",
            "out = beta * z_hat + gamma",
            "gamma and beta are swapped",
        ),
        # The check compares dbeta first, so dbeta's mistake is named although dz (which uses dbeta) is wrong too.
        "ex2_batchnorm_backward": (
            "dbeta = dout.sum(axis=0)",
            "dbeta = dout.mean(axis=0)",
            "dbeta is the mean of dout over the batch",
        ),
        "ex3_running_averages": (
            "running_mean * momentum + z.mean(axis=0) * (1.0 - momentum)",
            "running_mean * (1.0 - momentum) + z.mean(axis=0) * momentum",
            "momentum is on the wrong side",
        ),
        "ex4_keras_layer": (
            "self.moving_mean * self.momentum + mean * (1.0 - self.momentum)",
            "self.moving_mean * (1.0 - self.momentum) + mean * self.momentum",
            "momentum is on the wrong side",
        ),
        "ex5_batchnorm_backward_alt": (
            "dz = gamma * inv_std / m * (m * dout - dbeta - z_hat * dgamma)",
            "dz = inv_std / m * (m * dout - dbeta - z_hat * dgamma)",
            "dz is missing the factor gamma",
        ),
    },
    "08_softmax": {
        "ex1_softmax": (
            "return exps / np.sum(exps, axis=-1, keepdims=True)",
            "return exps",
            "you returned exp(z - max) without dividing by the row's sum of exp",
        ),
        "ex2_cross_entropy": ("-np.mean(", "np.mean(", "the sign is flipped"),
        "ex3_cross_entropy_gradient": (
            "(softmax(z) - y) / len(z)",
            "(z - y) / len(z)",
            "you used z instead of softmax(z)",
        ),
        "ex4_gradient_descent_step": (
            "W - learning_rate * dW",
            "W + learning_rate * dW",
            "W moved uphill",
        ),
        # No table of mistakes (training is open-ended): no shuffle, so the seed changes nothing, which the check names.
        "ex5_softmax_regression": (
            "order = rng.permutation(m)",
            "order = np.arange(m)",
            "seed=0 and seed=1 gave the same W",
        ),
    },
    "09_cnn": {
        "ex1_conv_single_step": ("+ np.sum(b)", "- np.sum(b)", "you subtracted the bias"),
        "ex2_conv_forward": (
            "axes=([1, 2, 3], [0, 1, 2])) + b",
            "axes=([1, 2, 3], [0, 1, 2]))",
            "the bias is missing",
        ),
        "ex3_pool_forward": (
            'reduce = np.max if mode == "max" else np.mean',
            'reduce = np.mean if mode == "max" else np.max',
            "you computed the average of each window; mode='max' asks for the max",
        ),
        # No table of mistakes (any small CNN that reaches the target is right): logits instead of
        # probabilities, which the check names.
        "ex4_digits_cnn": (
            'keras.layers.Dense(10, activation="softmax")',
            "keras.layers.Dense(10)",
            "the outputs are not probabilities",
        ),
    },
    "10_activation_functions": {
        "ex1_activations": (
            "1.0 / (1.0 + np.exp(-z))",
            "1.0 / (1.0 + np.exp(z))",
            "the sign of the exponent is flipped",
        ),
        "ex2_layer_gradient_norms": (
            "float(tf.norm(g))",
            "float(tf.reduce_sum(g ** 2))",
            "you returned the sum of squares",
        ),
        "ex3_dead_relu_counter": (
            "np.all(a == 0, axis=0)",
            "np.any(a == 0, axis=0)",
            "not on some of them (np.any)",
        ),
        "ex4_prelu": (
            "np.where(z > 0, z, alpha * z)",
            "np.where(z > 0, alpha * z, z)",
            "alpha applied to the positive side",
        ),
        "ex5_moments_through_depth": (
            "float(np.var(h))",
            "float(np.std(h))",
            "you returned the standard deviation",
        ),
        # The relu pieces in piece-major columns (column k * n + u): the check names the layout.
        "ex6_maxout": (
            "kernel[units, 2 * units] = 1.0",
            "kernel[units, units] = 1.0",
            "your pieces are in the wrong columns",
        ),
        "ex7_summarize_runs": (
            "final.std(ddof=1)",
            "final.std(ddof=0)",
            "you used the population std (ddof=0)",
        ),
    },
    "11_preprocessing_and_regularization": {
        "ex1_preprocess": (
            "mean = x_train.mean(axis=0)",
            "mean = x.mean(axis=0)",
            "you computed the statistics on the data you transform",
        ),
        "ex2_dropout": (
            "return a * mask / keep_prob if inverted else a * mask",
            "return a * mask if inverted else a * mask",
            "inverted dropout divides the kept units by keep_prob in training",
        ),
        "ex3_drop_connect": (
            "return x @ (W * mask / keep_prob) + b",
            "return x @ (W * mask) + b",
            "divide the masked weights by keep_prob in training",
        ),
        "ex4_stochastic_depth": (
            "blocks = np.arange(1, num_blocks + 1)",
            "blocks = np.arange(num_blocks)",
            "off by one",
        ),
        "ex5_cutout_mixup": (
            "top, left = max(cy - size // 2, 0), max(cx - size // 2, 0)",
            "top, left = cy - size // 2, cx - size // 2",
            "a negative slice start counts from the end",
        ),
        "ex6_elastic_net": (
            "gradient = l1 * np.sign(W) + 2.0 * l2 * W",
            "gradient = l1 * np.sign(W) + l2 * W",
            "the derivative of l2 * w^2 is 2 * l2 * w",
        ),
    },
    "12_tensorflow_and_backprop": {
        "ex1_tape": ("tape.watch(tensor)", "pass", "the tape returned None"),
        "ex2_engine": (
            "if self.data >= other.data:  # max gate: router",
            "if self.data < other.data:  # max gate: router",
            "you routed it to the smaller",
        ),
        "ex3_losses": (
            "margins[rows, labels] = 0.0  # j != y_i only",
            "pass  # j != y_i only",
            "you counted the correct class's margin",
        ),
        "ex4_gradient_descent": (
            "loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits",
            "loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits",
            "your loss is SUMMED over the batch",
        ),
        "ex5_dls_pipeline": (
            "return tf.reduce_sum(keras.losses.categorical_crossentropy",
            "return tf.reduce_mean(keras.losses.categorical_crossentropy",
            "you returned the MEAN over the batch",
        ),
    },
}


# lab -> groups of exercises graded in submissions of their own: their check cells call the student's functions of
# earlier exercises (lab 08's gradient_descent_step calls softmax, cross_entropy and cross_entropy_gradient; the
# training loop calls gradient_descent_step), so a mistake upstream would hide their own. Every other exercise of
# the lab is mutated in one submission, `mistakes-<lab>.ipynb`.
SEPARATE = {"08_softmax": [("ex4_gradient_descent_step",), ("ex5_softmax_regression",)]}


def _submissions():
    """[(lab, submission file name, the solution cells mutated in it)], in grading order."""
    plan = []
    for lab, mistakes in MISTAKES.items():
        separate = SEPARATE.get(lab, [])
        alone = {solution for group in separate for solution in group}
        plan.append((lab, f"mistakes-{lab}.ipynb", tuple(s for s in mistakes if s not in alone)))
        plan += [(lab, f"mistakes-{lab}-{group[0]}.ipynb", group) for group in separate]
    return plan


def _mutated(lab_path, solutions, path):
    """Writes to `path` the lab's source with the mutations of MISTAKES for `solutions` applied."""
    lab = os.path.basename(lab_path).removesuffix(".ipynb")
    notebook = nbformat.read(lab_path, as_version=4)
    todo = {solution: MISTAKES[lab][solution] for solution in solutions}
    for cell in notebook.cells:
        mutation = todo.pop(cell.metadata.get("nbgrader", {}).get("grade_id"), None)
        if mutation is None:
            continue
        old, new, _ = mutation
        # A cell may hold several solution regions (one per function): the mutation is in exactly one of them.
        regions, start = [], cell.source.find(BEGIN)
        while start != -1:
            end = cell.source.index(END, start)
            regions.append((start, end))
            start = cell.source.find(BEGIN, end)
        found = [(start, end) for start, end in regions if old in cell.source[start:end]]
        count = sum(cell.source[start:end].count(old) for start, end in regions)
        assert count == 1, f"{lab}: {old!r} is not once in the solutions of its cell"
        ((start, end),) = found
        cell.source = cell.source[:start] + cell.source[start:end].replace(old, new) + cell.source[end:]
    assert not todo, f"{lab} has no solution cells {sorted(todo)}"
    nbformat.write(notebook, path)
    return path


def _check_of(lab, solution_id):
    """The grade_id of the check cell that grades `solution_id`."""
    checks = [check.grade_id for check in lab.checks if solution_id in check.exercises]
    assert len(checks) == 1, (solution_id, checks)
    return checks[0]


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    """{lab: (hidden keys, {solution: check grade_id}, [(solutions mutated, row, student JSON file's text, HTML
    page), ...])} from one `grade` call over the mutated submissions of every lab (`_submissions`); {lab: the
    AssertionError} for a lab whose source no longer holds a mutation's old text."""
    folder = tmp_path_factory.mktemp("mistakes")
    plan = _submissions()
    out, paths = {}, {}
    for lab, name, solutions in plan:
        try:
            paths[name] = _mutated(os.path.join(LABS_DIR, f"{lab}.ipynb"), solutions, str(folder / name))
        except AssertionError as error:  # that lab's test fails with it; the other labs are still graded
            out[lab] = error
    plan = [entry for entry in plan if entry[0] not in out]
    paths = [paths[name] for _, name, _ in plan]
    labs = sorted({os.path.join(LABS_DIR, f"{lab}.ipynb") for lab, _, _ in plan})
    rows = grade(
        paths, source=LABS_DIR, jobs=2, timeout=900, references=lab_references(tmp_path_factory, labs)
    )
    feedback_dir = write_gradebook(rows, str(folder / "gradebook.csv"), str(folder / "feedback"))
    for (lab, _, solutions), row in zip(plan, rows, strict=True):
        if lab not in out:
            source = load_source(os.path.join(LABS_DIR, f"{lab}.ipynb"))
            keys = [key for check in source.checks for key in check.keys]
            out[lab] = (keys, {solution: _check_of(source, solution) for solution in MISTAKES[lab]}, [])
        stem = os.path.join(feedback_dir, feedback_name(row.submission))
        with open(stem + ".json", encoding="utf-8") as f:
            written = f.read()
        with open(stem + ".html", encoding="utf-8") as f:
            page = f.read()
        out[lab][2].append((solutions, row, written, page))
    return out


def test_every_graded_lab_has_mistakes():
    """MISTAKES covers every lab with solution cells, and every solution cell of each."""
    for path in sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb"))):
        lab = os.path.basename(path).removesuffix(".ipynb")
        solutions = set(load_source(path).solutions) if solution_ids_of(path) else set()
        assert set(MISTAKES.get(lab, {})) == solutions, lab


def _names(key, text):
    """Whether `text` holds the hidden key `key` as a name of its own (not inside a longer one: lab 07's key
    `ex3_running` begins the grade_id `ex3_running_averages_check`, which the feedback shows)."""
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text) is not None


@pytest.mark.parametrize("lab", sorted(MISTAKES))
def test_feedback_names_the_mistake_and_no_hidden_key(lab, feedback):
    if isinstance(feedback[lab], AssertionError):
        pytest.fail(f"cannot make the submission: {feedback[lab]}")
    keys, checks, submissions = feedback[lab]
    problems = []  # every exercise's, not only the first
    for solutions, row, written, page in submissions:
        assert row.lab == lab and row.status == "graded", (row.submission, row.reasons)
        view = json.dumps(row.to_dict(), ensure_ascii=False)
        assert json.loads(written) == json.loads(view), row.submission
        exercises = {exercise.grade_id: exercise for exercise in row.exercises}
        for solution in solutions:
            fragment = MISTAKES[lab][solution][2]
            exercise = exercises[checks[solution]]
            if (exercise.points, exercise.status) != (0, "wrong") or fragment not in exercise.message:
                problems.append(
                    (solution, exercise.points, exercise.status, exercise.message, exercise.reason)
                )
            elif html.escape(fragment) not in page:
                problems.append((solution, "not in the HTML page", exercise.message))
        if any("reason" in exercise for exercise in row.to_dict()["exercises"]):
            problems.append((row.submission, "a reason in the student's view"))
        # The instructor's `reasons` do name them: the search below is not vacuous.
        assert any(_names(key, row.reasons) for key in keys), (row.submission, row.reasons)
        leaked = [key for key in keys if any(_names(key, text) for text in (view, written, page))]
        if leaked:
            problems.append((row.submission, "hidden keys", leaked))
    assert not problems, "\n".join(map(repr, problems))
