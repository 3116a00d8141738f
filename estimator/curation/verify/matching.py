"""Matching: a row to what it can be checked against, resolved once per run.

* **The catalog** (:class:`CatalogMatcher`), through its public API only
  (:func:`estimator.curation.catalog.lookup`), by rules tried in order, each recorded:
  the name as written (case, spaces and punctuation ignored; aliases included); the name
  without a parenthesised remark ("GPT-3 175B (davinci)"); the name without a post-training
  suffix that keeps the weights' shapes ("-Chat", "-Instruct", "-Base", "-it", "SFT", "DPO",
  "RLHF", "-deduped", and a release version "v0.1" after a name that fixes the size: the same
  architecture, so the same parameter count); the name without the row's
  organisation in front ("Meta Llama 3 8B"); the name plus the size the row's own figure rounds
  to ("Llama 2" with 13e9 -> "Llama 2 13B", organisation + size). Each distinct name is looked
  up once per run, whatever the number of rows.
* **A spec or config the row names** (:func:`resolve_spec`): only inside the submission's
  folder or folders given explicitly (:func:`estimator.safety.resolve_inside`), a regular file
  under the size limit (:func:`estimator.safety.read_bytes`); errors never quote its content.
* **Base models** (:class:`FileIndex`): the ``Base model`` cell against the catalog (same
  rules) and against the other rows of the same file, which often hold the base model's row.
* **Hardware** (:class:`HardwareResolver`): each distinct cell resolved once against the
  accelerator table; an unknown name is a gap of the table, unless it nearly matches an
  entry (then a likely misspelling, said with the entry it nearly matches).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ...errors import InputError, PCError
from ...safety import printable, read_bytes, resolve_inside
from ..catalog import lookup, normalise

SPEC_MAX_BYTES = 4 * 1024 * 1024   # an archspec or config.json is a few kB; 4 MiB is generous

_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*")
# suffixes naming post-training of the same weights (the shapes, hence the count, unchanged)
_POST = re.compile(r"[\s_-]*(?:chat|instruct|instruction|it|base|sft|dpo|rlhf|hf|preview|deduped)\s*$",
                   re.I)
# a release's version after a name that fixes the size ('Mistral-7B-Instruct-v0.1'): the same
# shapes; never after a size-less name ('DeepSeek-V2.5' is not DeepSeek)
_VERSION = re.compile(r"[\s_-]*v\d+\.\d+(?:\.\d+)?\s*$", re.I)
_SIZE = re.compile(r"(?<![a-z0-9.])\d+(?:\.\d+)?\s*[kmbt](?![a-z])", re.I)


def size_labels(n: float) -> list[str]:
    """How a model of ``n`` parameters is named by size: 13e9 -> ['13B'], 1.5e9 -> ['1.5B'],
    124e6 -> ['124M']; one and two significant figures, as names round."""
    out = []
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if n >= scale * 0.95:
            x = n / scale
            for digits in (3, 2, 1):
                label = f"{float(f'{x:.{digits}g}'):g}{unit}"
                if label not in out:
                    out.append(label)
            break
    return out


@dataclass
class Match:
    entry: Any          # a catalog Entry
    how: str            # the rule that matched
    name: str           # the name that was looked up

    def to_dict(self) -> dict:
        return {"entry": self.entry.name, "rule": self.how, "looked_up": self.name,
                "variant": getattr(self.entry, "variant", None)}


class CatalogMatcher:
    """Rows to catalog entries, each distinct name looked up once per run."""

    def __init__(self):
        self._memo: dict[str, Any] = {}
        self.lookups = 0

    def _get(self, name: str):
        k = normalise(name)
        if not k:
            return None
        if k not in self._memo:
            self.lookups += 1
            try:
                self._memo[k] = lookup(name)
            except InputError as err:      # a name two systems share
                self._memo[k] = err
            except PCError as err:         # a catalog spec that cannot be counted
                self._memo[k] = err
        found = self._memo[k]
        return found

    def candidates(self, name: str, *, organisation: str = "", params: Optional[float] = None):
        """(name to look up, rule) in the order tried."""
        name = " ".join(str(name).split())
        if not name:
            return []
        out = [(name, "name or alias")]
        bare = _PAREN.sub(" ", name).strip()
        if bare and bare != name:
            out.append((bare, "name without its parenthesised remark"))
        base = bare or name
        stripped = base
        while True:
            s = _POST.sub("", stripped).strip(" -_")
            if s == stripped:
                v = _VERSION.sub("", stripped).strip(" -_")
                s = v if has_size(v) else stripped
            if not s or s == stripped:
                break
            stripped = s
        if stripped != base:
            out.append((stripped, "name without a post-training suffix (same weights)"))
        for org in re.split(r"\s*,\s*", organisation or ""):
            first = org.split()[0] if org.split() else ""
            if first and normalise(stripped).startswith(normalise(first)) and \
                    normalise(stripped) != normalise(first):
                out.append((stripped[len(first):].strip(" -_"), "name without the organisation"))
        if params and not _SIZE.search(stripped):
            for label in size_labels(params):
                out.append((f"{stripped} {label}", "name + the size its Parameters round to"))
        return out

    def match(self, name: str, *, organisation: str = "", params: Optional[float] = None,
              notes: Optional[list] = None) -> Optional[Match]:
        for cand, how in self.candidates(name, organisation=organisation, params=params):
            found = self._get(cand)
            if isinstance(found, PCError):
                if notes is not None:
                    notes.append(f"catalog: {printable(found.message)}")
                return None          # ambiguous: never guess between two systems
            if found is not None:
                return Match(found, how, cand)
        return None


def resolve_spec(named: str, roots: list) -> Path:
    """The spec/config file a row names, inside ``roots`` only, checked as a regular file under
    the size limit. InputError otherwise (same message whether an outside path exists)."""
    if not roots:
        raise InputError(f"the spec {printable(named)!r} the row names cannot be looked up: no "
                         "folder is allowed (verify a file, or pass --specs-dir)")
    if Path(named).is_absolute():
        p = resolve_inside(named, roots, what="the spec the row names")
    else:   # relative: the first allowed folder that holds it (existence inside them only)
        inside = [resolve_inside(named, [root], what="the spec the row names") for root in roots]
        p = next((q for q in inside if q.exists()), inside[0])
    if not p.exists():
        raise InputError(f"the spec {printable(named)!r} the row names is not in the folders it "
                         "may name")
    read_bytes(p, max_bytes=SPEC_MAX_BYTES, what="spec")   # regular file, size limit
    return p


class FileIndex:
    """The rows of one file by normalised model name: a base model's own row, if present."""

    def __init__(self, rows: list[tuple[int, dict]]):
        self.by_name: dict[str, list[tuple[int, dict]]] = {}
        for i, cells in rows:
            k = normalise(cells.get("model") or "")
            if k:
                self.by_name.setdefault(k, []).append((i, cells))

    def find(self, name: str, *, exclude: int) -> Optional[tuple[int, dict]]:
        for cand in (name, _PAREN.sub(" ", name).strip()):
            found = [x for x in self.by_name.get(normalise(cand), []) if x[0] != exclude]
            if len(found) == 1:
                return found[0]
        return None


FILE_BASE_MARGIN = 0.15   # a base model's row and its fine-tune, both rounded size labels


_EXPERTS_SIZE = re.compile(r"\d+\s*x\s*\d+(?:\.\d+)?\s*[kmbt](?![a-z])", re.I)   # 'Mixtral 8x7B'


def has_size(name: str) -> bool:
    """The name fixes a size ('Llama 2-13B', 'ESM2-650M', 'Mixtral 8x7B'), so it names one
    model, not a family."""
    return bool(_SIZE.search(name) or _EXPERTS_SIZE.search(name))


def same_model(base_name: str, params: Optional[float], base_params: Optional[float]) -> bool:
    """A row of the file named like the base model is that model (not another size of its
    family): its name carries a size, or its parameters are within 15 % of the fine-tune's."""
    if has_size(base_name):
        return True
    return bool(params and base_params and abs(params / base_params - 1) <= FILE_BASE_MARGIN)


def split_bases(cell: str) -> list[str]:
    """'Qwen2-72B,InternViT-6B' -> two base models."""
    return [b.strip() for b in re.split(r"\s*[,;]\s*", cell or "") if b.strip()]


class HardwareResolver:
    """Hardware cells to table entries, each distinct cell once per run."""

    # a name looks misspelt when it nearly matches an entry (difflib ratio of the names without
    # vendor words) with the same digits: 'A100 SMX4' for 'A100 SXM4', never 'A10' for 'A40'
    MISSPELT = 0.85

    def __init__(self, table):
        self.table = table
        self._memo: dict[str, tuple[list, list[dict], Optional[str], Optional[str]]] = {}

    def resolve(self, cell: str):
        """(parts, mentions, problem, code): parts found; mentions for the record; a problem
        sentence when the check cannot run; a flag code only for a likely misspelling."""
        if cell not in self._memo:
            self._memo[cell] = self._resolve(cell)
        return self._memo[cell]

    def _resolve(self, cell: str):
        from ...costs.hardware import split_names

        parts: list = []
        mentions: list[dict] = []
        problems: list[str] = []
        code = None
        for name in split_names(cell):
            try:
                acc = self.table.lookup(name)
            except InputError as err:
                acc = self._same_peaks(name, err)
                if acc is None:
                    mentions.append({"name": name, "id": None})
                    near = None if "could mean" in err.message else self._near(name)
                    if near is not None:
                        problems.append(f"{printable(name)!r} is not in the accelerator table "
                                        f"and nearly matches {near.id} ({near.name}): misspelt?")
                        code = "unknown-hardware"
                    elif "could mean" in err.message:
                        problems.append(printable(err.message.removeprefix("hardware: "))
                                        + " (entries with different peaks)")
                    else:
                        problems.append(f"{printable(name)!r} is not in the accelerator table "
                                        "(a gap of the table, not of the row)")
                    continue
            mentions.append({"name": name, "id": acc.id, "kind": acc.kind})
            if acc not in parts:
                parts.append(acc)
        for acc in parts:
            if not [p for p in acc.precisions if p != "int8"]:
                problems.append(f"{acc.name} has no floating-point peak in the table (only "
                                f"{', '.join(acc.precisions) or 'none'}): FLOP cannot be "
                                "compared with it")
        return parts, mentions, ("; ".join(problems) or None), code

    def _same_peaks(self, name: str, err: InputError):
        """An ambiguous name whose candidates have the same peaks (memory variants): any."""
        ids = re.findall(r"([a-z0-9][a-z0-9.-]+) \(", err.message) if "could mean" in err.message else []
        accs = [self.table.by_id[i] for i in ids if i in self.table.by_id]
        if accs and all(a.peak == accs[0].peak for a in accs):
            return accs[0]
        return None

    def _near(self, name: str):
        from ...costs.hardware import normalise as hw_norm, strip_noise as _strip_noise

        q = _strip_noise(name) or hw_norm(name)
        digits = re.sub(r"\D", "", q)
        best, best_r = None, 0.0
        for acc in self.table.closest(name, 3):
            for n in self.table.names_of(acc):
                k = _strip_noise(n) or hw_norm(n)
                if re.sub(r"\D", "", k) != digits:
                    continue    # A10 and A40 are two products, not one misspelt
                r = difflib.SequenceMatcher(None, q, k).ratio()
                if r > best_r:
                    best, best_r = acc, r
        return best if best_r >= self.MISSPELT else None


# ------------------------------------------------------------------ what a row is checked with

@dataclass
class Counted:
    """What the checks need of a counted architecture (a catalog entry or a named spec)."""

    name: str
    source: str                    # 'catalog: NAME (rule)' or the spec path
    result: Any                    # the CountResult (operation counting needs it)
    params: int
    active_params: int
    forward_flops: int
    tokens: Optional[int]          # T when the input is a token sequence
    domain: Optional[str]
    published: dict
    discrepancy: dict

    @property
    def moe(self) -> bool:
        return self.active_params < self.params

    @property
    def published_compute(self) -> Optional[float]:
        return published_value(self.published, "training_compute")

    @property
    def flops_per_param(self) -> Optional[float]:
        """Forward FLOPs per token (or example) over active parameters: ~2 for a dense
        transformer; ~2 x L for a model that reuses one layer's weights L times (ALBERT)."""
        per = self.forward_flops / self.tokens if self.tokens else self.forward_flops
        return per / self.active_params if self.active_params else None


def published_value(published: dict, key: str) -> Optional[float]:
    """A published figure, whether stored as {'value': x, 'source': ...} or as a number."""
    v = (published or {}).get(key)
    if isinstance(v, dict):
        v = v.get("value")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def from_entry(entry, how: str) -> Counted:
    """A catalog Entry (or a family variant of one) as the checks need it; only the catalog's
    public attributes are relied on (name, params, active_params, forward_flops, domain,
    published), the rest read when present."""
    result = getattr(entry, "result", None)
    tokens = getattr(entry, "tokens_per_example", None) or getattr(result, "tokens", None)
    return Counted(name=entry.name, source=f"catalog: {entry.name} ({how})", result=result,
                   params=int(entry.params), active_params=int(entry.active_params),
                   forward_flops=int(entry.forward_flops), tokens=tokens,
                   domain=getattr(entry, "domain", None),
                   published=dict(getattr(entry, "published", None) or {}),
                   discrepancy=dict(getattr(entry, "discrepancy", None) or {}))


_SPEC_CACHE: dict = {}


def _analytic_config(path: Path) -> bool:
    """Whether a config.json is of a family counted torch-free (estimator.spec.hf): then
    ``load_spec`` reads it analytically, exactly as ``paramcount CONFIG.json`` does."""
    from ...spec.hf import FAMILIES
    from ...spec.hf.read import read_config_file

    raw = read_config_file(path)
    return isinstance(raw, dict) and raw.get("model_type") in FAMILIES


def count_spec(path: Path) -> Counted:
    """Count an archspec (torch-free) or a Hugging Face config.json the row names. Errors name
    the file and the rule, never its content."""
    key = str(path)
    if key in _SPEC_CACHE:
        found = _SPEC_CACHE[key]
        if isinstance(found, PCError):
            raise found
        return found
    try:
        if path.suffix.lower() == ".json" and not _analytic_config(path):
            # a family the torch-free reader does not know: transformers on the meta device
            try:
                from ...graphs.hf_config import count_config
            except ImportError:
                raise InputError("counting a Hugging Face config.json needs "
                                 "estimator.graphs.hf_config, which this version lacks") from None
            result = count_config(path)
            out = Counted(name=getattr(result, "name", path.parent.name), source=str(path),
                          result=result, params=int(result.params),
                          active_params=int(result.active_params),
                          forward_flops=int(result.forward_flops),
                          tokens=getattr(result, "tokens", None), domain=None, published={},
                          discrepancy={})
        else:
            from ...analytic import analyze, load_spec

            spec = load_spec(path)
            result = analyze(spec)
            out = Counted(name=spec.name, source=str(path), result=result,
                          params=int(result.params), active_params=int(result.active_params),
                          forward_flops=int(result.forward_flops), tokens=result.tokens,
                          domain=spec.domain, published=dict(result.extra.get("published") or {}),
                          discrepancy=dict((spec.provenance or {}).get("discrepancy") or {}))
    except PCError as err:
        where = f" (line {err.line})" if err.line else ""
        failed = InputError(f"the spec {printable(path.name)!r} the row names cannot be counted"
                            f"{where}: it is not an archspec or a supported config.json")
        _SPEC_CACHE[key] = failed
        raise failed from None
    _SPEC_CACHE[key] = out
    return out
