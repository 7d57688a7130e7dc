import pytest

from simulation import SMEModel


@pytest.fixture(scope="session")
def full_model():
    """One full-scale model at month 0, shared by read-only tests (building it takes ~1 s)."""
    return SMEModel(rng=20181001)


@pytest.fixture(scope="session")
def small_run():
    """A small model run for 24 months, shared by read-only tests."""
    model = SMEModel(rng=7, scale=0.05)
    for _ in range(24):
        model.step()
    return model
