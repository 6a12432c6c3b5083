"""`AnswerGuard`: in a graded run, refuses calls to the functions that answer an exercise.

The runner (`dlkit.grading.sandbox`) installs it before the first cell when the lab's check cells name
forbidden functions (`{"dlkit": {"forbidden": ["keras.optimizers.Adam", ...]}}` in a check cell's metadata). Two
kinds of function are guarded:

- every private function (and every method of a class) of `dlkit.lab_checks`: the visible checks' references
  and mistake tables. Only `dlkit.lab_checks` itself may call them, at any time;
- each name in a check cell's `forbidden` list (a function, or every method of a class): a library feature that
  answers that exercise, e.g. `dlkit.layers.batch_norm_forward`. Until that check cell has run, it may be
  called only by `dlkit.lab_checks` code (a visible check comparing with the Keras built-in) and by the
  instructor's other cells (an introduction plotting the library's schedules); afterwards by anyone (a later
  demo trains with `keras.optimizers.Adam`).

A guarded function keeps its identity: its `__code__` is swapped for a trampoline, so a reference a student
kept (`ewma = checks._reference_ewma`, or one found by probing every callable of `dlkit`) is guarded as well.
On each call the trampoline walks the call stack:

```
allowed = every frame is trusted (lab_checks, an instructor cell, the runner, or a code object found in an
          imported module)
          and, skipping library frames, the nearest caller is dlkit.lab_checks code, or (library features only)
          an instructor cell other than the check cells that forbid the function
```

A frame of a student's cell, of code it compiled or of a thread it started is not trusted; the check cell
itself calling the function (a hidden test calling `ewma = checks._reference_ewma`, or `adam = keras...Adam`)
is not an allowed caller. A refused call writes a violation to the record file and raises
`ForbiddenFunctionError`; the grader then scores that exercise 0 and names the function.

This is a tripwire inside the student's own process, not a wall: a student who reads this module can dig the
original function out of the trampoline, or plant code in an imported module's namespace. See
docs/grading.md ("What it does not defend against").
"""

import functools
import importlib
import inspect
import os
import pkgutil
import sys
import types
import warnings

from dlkit.grading.records import violation_line

LAB_CHECKS = "dlkit.lab_checks"
_PLACEHOLDER = "__dlkit_answer_guard__"
_LIB, _LAB_CHECKS, _CELL, _UNTRUSTED = "library", "lab_checks", "instructor cell", "untrusted"


class ForbiddenFunctionError(RuntimeError):
    """A graded run called a function that answers an exercise."""


def resolve(name):
    """The object a dotted name refers to, as user code would reach it: `dlkit.gradcheck.gradcheck` is the
    function the package exports, not the module of the same name; a submodule is imported when needed.

    Raises:
        ValueError: if a part is neither an attribute nor an importable submodule.
    """
    parts = name.split(".")
    try:
        obj = importlib.import_module(parts[0])
        for position, part in enumerate(parts[1:], start=2):
            if not hasattr(obj, part):
                importlib.import_module(".".join(parts[:position]))
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise ValueError(f"Forbidden name {name!r} does not resolve to an importable object.") from None
    return obj


def functions_of(obj, name):
    """The Python functions to guard for `obj`: the function itself, or every function defined in a class.

    Raises:
        ValueError: for anything else (a builtin, a module, an instance): its code cannot be swapped.
    """
    if isinstance(obj, types.FunctionType):
        return [obj]
    if isinstance(obj, type):
        found = []
        for value in vars(obj).values():
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if isinstance(value, property):
                found.extend(
                    f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)
                )
            elif isinstance(value, types.FunctionType):
                found.append(value)
        if found:
            return found
    raise ValueError(
        f"Forbidden name {name!r} must name a Python function or class. Received: {type(obj).__name__}"
    )


def _trampoline_code(function):
    """A code object that hands (args, kwargs) to a placeholder constant, with `function`'s number of free
    variables (a function's `__code__` can only be swapped for one with as many)."""
    free = [f"v{i}" for i in range(len(function.__code__.co_freevars))]
    lines = ["def outer():", *(f"    {v} = None" for v in free), "    def guarded(*args, **kwargs):"]
    if free:
        lines.append(f"        if args is None: ({', '.join(free)},)")  # never runs: only makes them free
    lines += [f"        return {_PLACEHOLDER!r}(args, kwargs)", "    return guarded"]
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable": replaced below
        exec(compile("\n".join(lines), __file__, "exec"), namespace)
    return namespace["outer"]().__code__


class _Entry:
    """One guarded function: its original code as a new function, and the exercises it answers.

    `exercises` lists the check cells that forbid it, in notebook order; `lifts` says whether it is allowed once
    they have all run (a library feature) or never (a `dlkit.lab_checks` private function).
    """

    def __init__(self, guard, function, name, exercises, lifts):
        self.guard, self.name, self.exercises, self.lifts = guard, name, list(exercises), lifts
        self.pending, self.lifted = set(self.exercises), False
        self.original = types.FunctionType(
            function.__code__,
            function.__globals__,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        self.original.__kwdefaults__ = function.__kwdefaults__
        code = _trampoline_code(function)
        consts = tuple(self if c == _PLACEHOLDER else c for c in code.co_consts)
        self.code = code.replace(
            co_consts=consts, co_name=function.__code__.co_name, co_qualname=function.__code__.co_qualname
        )
        try:  # introspection still sees the original parameters (Keras reads `__init__`'s argspec)
            function.__signature__ = inspect.signature(self.original)
        except (TypeError, ValueError):
            pass
        function.__code__ = self.code

    def __call__(self, args, kwargs):
        if self.lifted or self.guard.allowed(
            sys._getframe(2), self
        ):  # 0: here, 1: the trampoline, 2: its caller
            return self.original(*args, **kwargs)
        raise self.guard.refuse(self)

    def checked(self, grade_id):
        """The check cell `grade_id` has run."""
        self.pending.discard(grade_id)
        self.lifted = self.lifts and bool(self.exercises) and not self.pending

    def exercise(self):
        """The exercise a refused call is charged to: the first forbidding one not yet checked, if any."""
        return next((grade_id for grade_id in self.exercises if grade_id in self.pending), None)


class AnswerGuard:
    """Guards the functions that answer a lab's exercises, for one graded run (see the module docstring).

    Args:
        record_path: String. The run's record file; refused calls are appended to it.
        check_cells: Dict {cell index: grade_id} of the lab's check cells, in notebook order.
        forbidden: Dict {grade_id: [dotted name, ...]}: the library features each exercise forbids.
    """

    def __init__(self, record_path, check_cells, forbidden):
        self.record_path = record_path
        self.check_cells = dict(sorted(check_cells.items()))
        self.forbidden = forbidden
        self.entries = []
        self.current = None
        self.current_trusted = False
        self._kinds = {}  # id(code) -> (code, kind); holding the code keeps its id from being reused
        self._module_codes = {}  # file name -> {id(code): code}
        self._cells = {}  # id(code) -> index of the instructor cell it was compiled from
        self._open, self._write, self._close = os.open, os.write, os.close  # a cell may patch `os` later

    def install(self):
        """Swaps the guarded functions' code; call once, before any student code runs.

        Raises:
            ValueError: if a forbidden name does not resolve to a Python function or class.
        """
        modules = [importlib.import_module(LAB_CHECKS)]
        package = modules[0]
        modules += [
            importlib.import_module(f"{LAB_CHECKS}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
        ]
        plan = []  # (function, dotted name, exercise or None, lifted after the exercise's check)
        for grade_id, names in self.forbidden.items():
            for name in names:
                lifts = not name.startswith(LAB_CHECKS + ".")
                plan += [(function, name, grade_id, lifts) for function in functions_of(resolve(name), name)]
        for module in modules:
            for attr, value in sorted(vars(module).items()):
                if getattr(value, "__module__", None) != module.__name__:
                    continue  # imported: NumPy, the expect helpers
                if isinstance(value, type) and _has_functions(value):
                    plan += [
                        (f, f"{module.__name__}.{attr}.{f.__name__}", None, False)
                        for f in functions_of(value, attr)
                    ]
                elif attr.startswith("_") and isinstance(value, types.FunctionType):
                    plan.append((value, f"{module.__name__}.{attr}", None, False))
        for module in modules:
            self._trust_module(module, _LAB_CHECKS)
        self._trust_module(sys.modules[__name__], _LIB)
        frame = sys._getframe(1)
        while frame is not None:  # the runner: run by path as __main__, which IPython replaces
            self._kinds[id(frame.f_code)] = (frame.f_code, _LIB)
            frame = frame.f_back
        grouped = {}  # id(function) -> [function, name, exercises, lifts]: a class two exercises forbid
        order = {grade_id: position for position, grade_id in enumerate(self.check_cells.values())}
        for function, name, exercise, lifts in plan:
            group = grouped.setdefault(id(function), [function, name, [], lifts])
            if exercise is not None and exercise not in group[2]:
                group[2].append(exercise)
        for function, name, exercises, lifts in grouped.values():
            exercises.sort(key=lambda grade_id: order.get(grade_id, len(order)))
            entry = _Entry(self, function, name, exercises, lifts)
            self.entries.append(entry)
            self._kinds[id(entry.code)] = (entry.code, _LIB)
            original = entry.original.__code__  # a library feature's own code, now reachable only from here
            self._kinds.setdefault(id(original), (original, _LIB))
        return self

    def _trust_module(self, module, kind):
        codes = {}
        _collect_module(module, codes)
        for code in codes.values():
            self._kinds[id(code)] = (code, kind)

    # --- the runner's hooks ----------------------------------------------------------------------------------

    def begin_cell(self, index, trusted):
        """Called before each cell: `trusted` for an instructor cell (its compiled code is then trusted)."""
        self.current, self.current_trusted = index, trusted

    def end_cell(self, index):
        """Called after each cell: after a check cell, the library features its exercise forbids are allowed."""
        grade_id = self.check_cells.get(index)
        if grade_id is not None:
            for entry in self.entries:
                entry.checked(grade_id)

    def compiled(self, code):
        """Called with each code object the shell compiles: trusted if the current cell is an instructor's."""
        if self.current_trusted:
            codes = {}
            _collect(code, codes, set())
            for nested in codes.values():
                self._kinds[id(nested)] = (nested, _CELL)
                self._cells[id(nested)] = self.current

    # --- the check ---------------------------------------------------------------------------------------------

    def allowed(self, frame, entry):
        """Whether the call to `entry` made from `frame` may proceed (see the module docstring)."""
        nearest = cell = None
        while frame is not None:
            kind = self._kind(frame.f_code)
            if kind == _UNTRUSTED:
                return False
            if nearest is None and kind != _LIB:
                nearest, cell = kind, self._cells.get(id(frame.f_code))
            frame = frame.f_back
        if nearest == _CELL and entry.lifts:
            return self.check_cells.get(cell) not in entry.exercises
        return nearest == _LAB_CHECKS

    def refuse(self, entry):
        """Records a refused call (best effort) and returns the error to raise."""
        exercise = entry.exercise() or self._current_exercise()
        try:
            fd = self._open(self.record_path, os.O_WRONLY | os.O_APPEND)
            try:
                self._write(fd, violation_line(exercise, entry.name).encode("utf-8"))
            finally:
                self._close(fd)
        except (OSError, TypeError):  # no record file (an ungraded run) or one the run broke: still refuse
            pass
        where = f"{exercise}: " if exercise else ""
        return ForbiddenFunctionError(f"{where}uses `{entry.name}`, which this exercise asks you to write")

    def _current_exercise(self):
        """The exercise a refused call of a `dlkit.lab_checks` function is charged to: the current check cell's,
        or, in a solution cell, the exercise it solves. None in the instructor's other cells (a demo calling a
        student's function that is an answer key): the call is refused there, but the points are at stake in
        the check cell."""
        if self.current in self.check_cells:
            return self.check_cells[self.current]
        if self.current is None or self.current_trusted:
            return None
        return next((gid for index, gid in self.check_cells.items() if index > self.current), None)

    def _kind(self, code):
        known = self._kinds.get(id(code))
        if known is not None and known[0] is code:
            return known[1]
        kind = _LIB if id(code) in self._codes_of_file(code.co_filename) else _UNTRUSTED
        self._kinds[id(code)] = (code, kind)
        return kind

    def _codes_of_file(self, filename):
        codes = self._module_codes.get(filename)
        if codes is None:
            codes = {}
            for module in list(sys.modules.values()):
                if getattr(module, "__file__", None) == filename:
                    _collect_module(module, codes)
            self._module_codes[filename] = codes
        return codes


def tracking_compiler(guard):
    """An IPython compiler class that shows `guard` each code object it compiles (instructor cells' code is
    trusted by identity, not by file name: a student can compile code under any name)."""
    from IPython.core.compilerop import CachingCompiler

    class TrackingCompiler(CachingCompiler):
        def __call__(self, *args, **kwargs):
            code = super().__call__(*args, **kwargs)
            guard.compiled(code)
            return code

    return TrackingCompiler


def _has_functions(cls):
    return any(
        isinstance(v, types.FunctionType | staticmethod | classmethod | property) for v in vars(cls).values()
    )


def _collect_module(module, codes):
    """Adds to `codes` every code object reachable from the functions and classes `module` defines."""
    seen = set()
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__module__ != module.__name__:
            continue  # another module's class: its code is collected with that module
        _collect(value, codes, seen, containers=1)


def _collect(obj, codes, seen, containers=0):
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, types.CodeType):
        codes[id(obj)] = obj
        for const in obj.co_consts:
            if isinstance(const, types.CodeType):
                _collect(const, codes, seen)
    elif isinstance(obj, types.FunctionType):
        _collect(obj.__code__, codes, seen)
        wrapped = obj.__dict__.get("__wrapped__")
        if wrapped is not None:
            _collect(wrapped, codes, seen)
    elif isinstance(obj, staticmethod | classmethod):
        _collect(obj.__func__, codes, seen)
    elif isinstance(obj, property):
        for accessor in (obj.fget, obj.fset, obj.fdel):
            if accessor is not None:
                _collect(accessor, codes, seen)
    elif isinstance(obj, functools.partial):
        _collect(obj.func, codes, seen)
    elif isinstance(obj, type):
        for value in list(vars(obj).values()):
            _collect(value, codes, seen, containers)
    elif containers and isinstance(obj, dict | list | tuple):
        for value in list(obj.values() if isinstance(obj, dict) else obj):
            _collect(value, codes, seen, containers - 1)
