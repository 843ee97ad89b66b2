"""Independent random streams derived from the run's seed, so that no stream perturbs another.

Evaluation noise and the sample-grid noise come from their own generators; evaluating more or less often, or
resuming, therefore leaves the training stream (data order, latent noise, GP interpolation) unchanged.
"""

from __future__ import annotations

import numpy as np

DATA_STREAM = 1  # data order, one permutation per epoch
NOISE_STREAM = 2  # training latents and gradient-penalty alphas
EVAL_STREAM = 3  # evaluation samples, one generator per evaluation step
GRID_STREAM = 4  # the fixed 8x8 sample grid


def derive_seed(seed: int, stream: int, index: int = 0) -> int:
    """A 63-bit seed for (run seed, stream, index), e.g. the data order of epoch `index`."""
    words = np.random.SeedSequence([int(seed), int(stream), int(index)]).generate_state(2, np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])
