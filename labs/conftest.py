"""nbval runs these notebooks: their kernels inherit this environment, and must show figures inline."""

import os

# A headless setting such as MPLBACKEND=Agg (common on CI machines) would make plt.show() draw nothing in the
# lab kernels, and every stored figure would then be reported missing.
os.environ.pop("MPLBACKEND", None)
