"""Entry point of one process of a `DistributedSearch`, run as a script (not `-m`, which would import dlkit first).

    python .../dlkit/tuning/_search_process.py TARGET DIRECTORY KWARGS_JSON [THREADS]

keras-tuner reads the process's role from `KERASTUNER_TUNER_ID` ("chief" serves the oracle, any other id runs
trials), so every process runs the same TARGET, exactly as the same script would run on each machine of a cluster.
"""

import importlib
import importlib.util
import json
import os
import sys

if __name__ == "__main__":
    # Run as a file, Python puts this folder first on sys.path, where `examples.py` & co. could shadow other
    # modules; put the working directory there instead, as `python -m` would.
    sys.path[0] = os.getcwd()


def load_target(target):
    """Imports `"package.module:function"` or `"path/to/file.py:function"` and returns the function."""
    module_name, _, function_name = target.rpartition(":")
    if module_name.endswith(".py"):
        spec = importlib.util.spec_from_file_location("_dlkit_tuning_target", module_name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    function = module
    for part in function_name.split("."):
        function = getattr(function, part)
    return function


def main(argv):
    target, directory, kwargs_json = argv[:3]
    threads = int(argv[3]) if len(argv) > 3 else 0
    if threads:
        import tensorflow as tf

        # One worker = one "machine": pin its threads so workers do not fight over the same cores.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    os.makedirs(directory, exist_ok=True)
    load_target(target)(directory, **json.loads(kwargs_json))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
