"""The version of paramcount (kept with pyproject.toml's), low in the layering so any layer may name it."""
__version__ = "0.1.0"
