import pytest

from simulation import SMEModel
from simulation.state import COLUMNS, DESTINATION_COLUMNS


def read_only(model: SMEModel) -> SMEModel:
    """The model with every firm column read-only: a test sharing it cannot change it for the next
    (a write, or a step, raises)."""
    for name in (*COLUMNS, *DESTINATION_COLUMNS):
        getattr(model.firms, name).flags.writeable = False
    return model


@pytest.fixture(scope="session")
def full_model():
    """One full-scale model at month 0, shared by tests that only read it (building it takes ~1 s)."""
    return read_only(SMEModel(rng=20181001))


@pytest.fixture(scope="session")
def small_run():
    """A small model run for 24 months, shared by tests that only read it."""
    return read_only(SMEModel(rng=7, scale=0.05).run(24))
