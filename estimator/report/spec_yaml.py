"""A spec as YAML text: what ``paramcount CONFIG.json --show-spec`` prints (the spec a
Hugging Face config turns into, or an archspec's ``config:`` expanded)."""
from __future__ import annotations

from typing import Any

import yaml


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def render_spec_yaml(raw: dict) -> str:
    """Block-style YAML of a spec mapping; layer mappings in the spec's own key order."""
    return yaml.safe_dump(_plain(raw), sort_keys=False, default_flow_style=None, width=100,
                          allow_unicode=False)
