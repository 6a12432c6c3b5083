"""`exercise_done` and `requires`: a demo that needs an unsolved exercise skips with one line, not a traceback.

A lab's check cell calls `dlkit.exercise_done(n)` right after its visible check passes; a demo cell that uses
Exercise n's code starts with `if dlkit.requires(n):`. On a student's blank release the demo prints
"skipped: finish Exercise n" instead of raising `NotImplementedError` and then, in the cells after it,
`NameError`/`KeyError` for what it never made.
"""

_done = set()


def _check_numbers(numbers):
    if not numbers:
        raise ValueError("Expected at least one exercise number. Received: none")
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"Exercise numbers must be integers >= 1. Received: {number!r}")
    return numbers


def exercise_done(number):
    """Marks Exercise `number` as solved: its visible check passed (call it right after the check).

    Example:

    >>> checks.check_he_init(initialize_he)
    >>> dlkit.exercise_done(3)

    Args:
        number: Integer >= 1. The exercise's number in the lab.

    Raises:
        ValueError: if `number` is not an integer >= 1.
    """
    _check_numbers((number,))
    _done.add(number)


def requires(*numbers):
    """Whether every exercise in `numbers` is solved; if not, prints "skipped: finish Exercise ..." once.

    Example:

    >>> if dlkit.requires(2, 3):
    ...     plot_decision_boundaries(...)

    Args:
        *numbers: Integers >= 1. The exercises the demo's code needs.

    Returns:
        True if `exercise_done` was called for each of them in this kernel, else False.

    Raises:
        ValueError: if no number is given or one is not an integer >= 1.
    """
    missing = [n for n in _check_numbers(numbers) if n not in _done]
    if not missing:
        return True
    names = " and ".join(str(n) for n in missing)
    print(f"skipped: finish Exercise{'s' if len(missing) > 1 else ''} {names}")
    return False


def _reset():
    """Forgets every solved exercise (tests only; a new kernel starts empty)."""
    _done.clear()
