"""The limits that keep a spec from exhausting the machine (docs/limits.md lists them).

Each is checked where the work would happen, and exceeding one is a one-line
:class:`~estimator.errors.SpecError` naming the limit, never a hang or a traceback.
Repeated identical layers do not count against these limits: ``repeat: 1000000000`` of one
block walks one copy and multiplies.
"""
from __future__ import annotations

#: YAML nesting (mappings and lists inside each other); about half as many nested layers.
MAX_YAML_DEPTH = 100

#: Nodes that YAML aliases (``*name``) may add to a document when expanded.
MAX_ALIAS_NODES = 1_000_000

#: Magnitude of any expression result or size (and of every intermediate value): int64.
MAX_INT = 2 ** 63

#: Totals (parameters, FLOPs) of one spec: ratios and SI figures are floats.
MAX_TOTAL = 10 ** 300

#: Bytes of a spec (or hardware table) file: a 100,000-layer spec is about 4 MB.
MAX_SPEC_BYTES = 16 * 1024 * 1024

#: YAML nodes (scalars, mappings, lists) of one document, counted while parsing large ones.
MAX_YAML_NODES = 2_000_000

#: Distinct layers the analytic walk holds in memory (identical repeat copies count once);
#: also the most items all ``layers:`` lists of a document may hold, counted while parsing.
MAX_LAYERS = 100_000

#: Per-layer rows expanded from repeats; past it the rows stay collapsed (``copies``).
MAX_ROWS = 100_000
