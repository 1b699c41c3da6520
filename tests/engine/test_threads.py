"""Element-wise special functions on several threads equal the plain call, element for element."""

import numpy as np
from scipy import special

from uncertain_cost.threads import available_cpus, elementwise


def test_elementwise_equals_the_plain_call_for_any_thread_count_and_shape():
    rng = np.random.default_rng(3)
    a = rng.uniform(0.3, 40.0, (700, 1))
    u = rng.uniform(0.0, 1.0, (1, 48))
    want = special.gammaincinv(a, u)
    for threads in (1, 2, 3, 7):
        got = elementwise(special.gammaincinv, a, u, threads=threads, min_elements=1)
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    dof, q = rng.uniform(1.0, 30.0, 5001), rng.uniform(0.0, 1.0, 5001)
    np.testing.assert_array_equal(elementwise(special.stdtrit, dof, q, threads=2, min_elements=1),
                                  special.stdtrit(dof, q))
    assert elementwise(special.stdtrit, 3.0, 0.5).shape == ()  # scalars and small calls: in this thread
    assert elementwise(special.stdtrit, np.array([]), np.array([])).shape == (0,)
    assert 1 <= available_cpus(1) <= 1 <= available_cpus()
