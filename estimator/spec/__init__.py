"""The spec language: YAML -> validated spec objects (safe loading, safe expressions, shapes)."""
