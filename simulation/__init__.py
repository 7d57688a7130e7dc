"""The model: knows nothing of files, the CLI or experiments."""

from .indicators import CONTRACT, INDICATORS
from .model import SMEModel
from .parameters import Parameters, make_parameters

__all__ = ["CONTRACT", "INDICATORS", "Parameters", "SMEModel", "make_parameters"]
