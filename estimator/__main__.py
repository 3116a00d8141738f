"""``python -m estimator`` works like ``paramcount``."""
from .cli import main

main()
