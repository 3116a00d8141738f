"""Reproduce the row choice of ``tests/data/verify-holdout.csv`` from the shared sample.

The rows of the holdout are chosen by this script alone, from the cells of Epoch AI's
"All ML Systems" sample (``<repo>/../shared/data/epoch-all-ml-systems-sample.csv``), with a
fixed seed and criteria that use no output of ``paramcount verify`` (or of any other tool):

(a) ``RANDOM_N`` rows drawn at random (``random.Random(SEED)``) among the rows with a
    ``Parameters`` or ``Training compute (FLOP)`` cell;
(b) ``SUSPICIOUS_N`` rows that LOOK suspicious, drawn at random (``random.Random(SEED + 1)``)
    from the rows not already drawn in (a), ``PER_CRITERION`` from each criterion's pool in
    the order of ``CRITERIA`` (a row drawn for one criterion is not drawn again):

    * ``single-digit``: a ``Finetune compute (FLOP)`` or ``Training compute (FLOP)`` cell whose
      value is below 1000;
    * ``base-model-params``: a ``Base model`` that names another row of the file (same Model,
      compared case- and space-insensitively) whose ``Parameters`` differ from this row's by
      more than 10 %;
    * ``compute-vs-6nd``: ``Training compute (FLOP)`` more than 3x away (either way) from
      6 x ``Parameters`` x ``Training dataset size (datapoints)``;
    * ``moe``: the Model, ``Parameters notes`` or ``Training compute notes`` say MoE /
      mixture-of-experts / experts, and the row has a ``Training compute (FLOP)`` cell;
    * ``two-chips``: a ``Training hardware`` cell naming two (or more) chips (a comma).

    Where a pool has fewer than ``PER_CRITERION`` rows left, the shortfall is drawn from the
    union of all pools.

    python tests/data/make_verify_holdout.py            # prints the chosen rows (row_key, why)
    python tests/data/make_verify_holdout.py --check    # compares with verify-holdout.csv
"""
from __future__ import annotations

import argparse
import csv
import math
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "epoch-all-ml-systems-sample.csv"
HOLDOUT = HERE / "verify-holdout.csv"

SEED = 20261203
RANDOM_N = 60
SUSPICIOUS_N = 40
CRITERIA = ("single-digit", "base-model-params", "compute-vs-6nd", "moe", "two-chips")
PER_CRITERION = SUSPICIOUS_N // len(CRITERIA)   # 8
MOE_WORDS = re.compile(r"\bMoE\b|mixture[- ]of[- ]experts|\bexperts?\b", re.I)


def read_sample(path: Path = SAMPLE) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def row_key(row: dict) -> str:
    """Model + Publication date: how a holdout row is found again."""
    return f"{row['Model'].strip()} | {row['Publication date'].strip()}"


def num(cell: str):
    try:
        v = float(str(cell).strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def criteria_of(row: dict, params_by_name: dict) -> list[str]:
    """The suspicious-looking criteria a row meets (cells only, no tool output)."""
    out = []
    tc, fc = num(row["Training compute (FLOP)"]), num(row["Finetune compute (FLOP)"])
    if (tc is not None and tc < 1000) or (fc is not None and fc < 1000):
        out.append("single-digit")
    p = num(row["Parameters"])
    base = _norm(row["Base model"])
    if base and p:
        others = [q for q in params_by_name.get(base, []) if q]
        if any(abs(p / q - 1) > 0.10 for q in others):
            out.append("base-model-params")
    d = num(row["Training dataset size (datapoints)"])
    if tc and p and d:
        ratio = tc / (6 * p * d)
        if ratio > 3 or ratio < 1 / 3:
            out.append("compute-vs-6nd")
    text = " ".join((row["Model"], row["Parameters notes"], row["Training compute notes"]))
    if tc is not None and MOE_WORDS.search(text):
        out.append("moe")
    if "," in row["Training hardware"]:
        out.append("two-chips")
    return out


def choose(rows: list[dict]) -> list[tuple[int, str, list[str]]]:
    """[(index into rows, 'random' or 'suspicious:<criterion>', all criteria met)]."""
    params_by_name: dict[str, list] = {}
    for r in rows:
        params_by_name.setdefault(_norm(r["Model"]), []).append(num(r["Parameters"]))
    crit = [criteria_of(r, params_by_name) for r in rows]

    with_figure = [i for i, r in enumerate(rows)
                   if r["Parameters"].strip() or r["Training compute (FLOP)"].strip()]
    drawn = random.Random(SEED).sample(with_figure, RANDOM_N)
    out = [(i, "random", crit[i]) for i in sorted(drawn)]
    taken = set(drawn)

    rng = random.Random(SEED + 1)
    suspicious = []
    for name in CRITERIA:
        pool = [i for i in range(len(rows)) if name in crit[i] and i not in taken]
        pick = rng.sample(pool, min(PER_CRITERION, len(pool)))
        taken.update(pick)
        suspicious += [(i, f"suspicious:{name}") for i in pick]
    short = SUSPICIOUS_N - len(suspicious)
    if short > 0:
        pool = [i for i in range(len(rows)) if crit[i] and i not in taken]
        pick = rng.sample(pool, min(short, len(pool)))
        taken.update(pick)
        suspicious += [(i, "suspicious:any") for i in pick]
    out += [(i, why, crit[i]) for i, why in sorted(suspicious)]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--check", action="store_true",
                    help="compare the choice with tests/data/verify-holdout.csv")
    args = ap.parse_args(argv)
    if not args.sample.exists():
        print(f"make_verify_holdout: the sample {args.sample} does not exist", file=sys.stderr)
        return 2
    rows = read_sample(args.sample)
    chosen = choose(rows)
    if args.check:
        with open(HOLDOUT, encoding="utf-8", newline="") as fh:
            have = [(r["row_key"], r["selection"]) for r in csv.DictReader(fh)]
        want = [(row_key(rows[i]), why) for i, why, _ in chosen]
        if have != want:
            print(f"make_verify_holdout: {HOLDOUT.name} does not match the seeded choice "
                  f"({len(have)} rows there, {len(want)} chosen)", file=sys.stderr)
            return 1
        print(f"{HOLDOUT.name}: {len(have)} rows, the seeded choice")
        return 0
    for i, why, crit in chosen:
        print(f"{i + 1}\t{why}\t{','.join(crit)}\t{row_key(rows[i])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
