"""``python -m estimator`` works like ``paramcount``."""
from .cli import run

run()
