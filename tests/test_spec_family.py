"""Size families: one spec file, a table of named variants (docs/spec-language.md), each its
own catalog system. The worked example is archspecs/bert.yaml (BERT base and large)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from estimator.analytic import analyze, load_spec, load_specs
from estimator.curation import catalog as cat
from estimator.errors import SpecError
from estimator.spec.schema import json_schema

ROOT = Path(__file__).resolve().parents[1]
BERT = ROOT / "archspecs" / "bert.yaml"

# A two-layer family: x (D,) -> linear D -> linear 10. params D*D + D + D*10 + 10.
TOY = """\
name: Toy
year: 2020
domain: vision
citation: "Made up (2020), Table 1"
input: {vector: D}
vars: {D: 4, H: D}
layers:
  - {kind: linear, out: H}
  - {kind: linear, out: 10}
training: {examples: 1000, epochs: 2, source: "Made up (2020), section 4"}
reduced: {D: 2}
variants:
  - name: Toy small
    aliases: [Toy-S]
    published: {params: {value: 70, source: "Table 1"}}
  - name: Toy big
    vars: {D: 8}
    year: 2021
    date: 2021-03-04
    published: {params: {value: 162, source: "Table 1"}}
    training: {epochs: 3}
"""


def toy(tmp_path, text=TOY) -> Path:
    p = tmp_path / "toy.yaml"
    p.write_text(text)
    return p


# --------------------------------------------------------------------------- the example

def test_bert_family_counts_each_variant_exactly():
    base = analyze(load_spec(BERT, variant="BERT base"))
    large = analyze(load_spec(BERT, variant="BERT large"))
    # base: word 30522*768 = 23,440,896 + segments 1,536 + positions 393,216 + LN 1,536
    # + 12 layers x (12*768^2 + 13*768 = 7,087,872) = 85,054,464 + pooler 590,592 = 109,482,240
    assert base.params == 30522 * 768 + 2 * 768 + 512 * 768 + 2 * 768 \
        + 12 * (12 * 768**2 + 13 * 768) + 768**2 + 768 == 109_482_240
    # large: word 31,254,528 + 2,048 + 524,288 + 2,048 + 24 x 12,596,224 + 1,049,600
    assert large.params == 30522 * 1024 + 2 * 1024 + 512 * 1024 + 2 * 1024 \
        + 24 * (12 * 1024**2 + 13 * 1024) + 1024**2 + 1024 == 335_141_888
    # forward at T = 512: per layer 2*512*12*H^2 + 4*512^2*H, pooler 2*H^2
    assert base.forward_flops == 12 * (2 * 512 * 12 * 768**2 + 4 * 512**2 * 768) + 2 * 768**2
    assert large.forward_flops == 24 * (2 * 512 * 12 * 1024**2 + 4 * 512**2 * 1024) + 2 * 1024**2


def test_bert_variants_are_catalog_entries_with_their_own_figures():
    entries = {e.name: e for e in cat.load_catalog([BERT])}
    assert list(entries) == ["BERT base", "BERT large"]
    base, large = entries["BERT base"], entries["BERT large"]
    assert (base.variant, base.family, base.spec.name) == ("BERT base", "BERT", "bert.yaml")
    assert base.published_params == 110e6 and large.published_params == 340e6
    assert base.status == "reproduced"                 # 109,482,240 / 110e6 = 0.99529
    assert large.status == "explained discrepancy"     # 335,141,888 / 340e6 = 0.98571
    # training merges key by key: the family's tokens and days, each variant's chips and source
    assert base.training["tokens"] == large.training["tokens"] == 42_598_400_000
    assert (base.training["chips"], large.training["chips"]) == (16, 64)
    assert "BERT_LARGE" in large.training["source"] and "BERT_BASE" in base.training["source"]
    assert base.date == "2018-10-11" and base.to_row()["date"] == "2018-10-11"
    # the old entry names, aliases and file stems still resolve (through the catalog index)
    for name, want in (("BERT-Base", "BERT base"), ("bert-base", "BERT base"),
                       ("BERT_LARGE", "BERT large"), ("bert-large-uncased", "BERT large"),
                       ("BERT", "BERT large")):
        assert cat.lookup(name).name == want
        assert cat.find_spec(name) == cat.SpecRef(BERT, want)


def test_a_family_is_loaded_by_variant_name_or_alias():
    assert load_spec(BERT, variant="bert_large").name == "BERT large"   # alias, normalised
    with pytest.raises(SpecError, match=r"a family of 2 variants \('BERT base', 'BERT large'\)"):
        load_spec(BERT)
    with pytest.raises(SpecError, match=r"no variant 'BERT larg' \(did you mean 'BERT large'"):
        load_spec(BERT, variant="BERT larg")
    with pytest.raises(SpecError, match="not a family"):
        load_spec(ROOT / "archspecs" / "alexnet.yaml", variant="x")
    assert [s.name for s in load_specs(BERT)] == ["BERT base", "BERT large"]


# -------------------------------------------------------------------------------- rules

def test_variant_vars_are_set_overrides_and_keys_replace_the_familys(tmp_path):
    small, big = load_specs(toy(tmp_path))
    # small: D = 4 -> 4*4 + 4 + 4*10 + 10 = 70; big: D = 8 (and H = D follows) -> 64+8+80+10 = 162
    assert analyze(small).params == 70 and analyze(big).params == 162
    assert (small.year, big.year, small.date, str(big.date)) == (2020, 2021, None, "2021-03-04")
    assert small.provenance["aliases"] == ["Toy-S"] and "aliases" not in big.provenance
    assert small.provenance["training"] == {"examples": 1000, "epochs": 2,
                                            "source": "Made up (2020), section 4"}
    assert big.provenance["training"]["epochs"] == 3          # merged over the family's
    assert big.provenance["training"]["examples"] == 1000
    # --set applies after the variant's vars: D = 3 -> 9 + 3 + 30 + 10 = 52
    assert analyze(load_spec(tmp_path / "toy.yaml", {"D": 3}, variant="Toy big")).params == 52
    # the reduced size keeps the variant: D = 2 -> 4 + 2 + 20 + 10 = 36
    assert analyze(load_spec(big, overrides=big.reduced)).params == 36
    assert load_spec(big, overrides=big.reduced).variant == "Toy big"


@pytest.mark.parametrize("edit,message,line", [
    # a variant sets a variable the family does not declare (did you mean)
    (("vars: {D: 8}", "vars: {DD: 8}"), "sets variable 'DD', which the family does not declare "
                                       "in its vars (did you mean 'D'?)", 17),
    # an unknown key of a variant, with the keys valid there
    (("    year: 2021", "    yaer: 2021"), "unknown key 'yaer' (did you mean 'year'?)", 18),
    # a variant cannot replace the architecture
    (("    year: 2021", "    layers: []"), "unknown key 'layers'", 18),
    # top-level published figures belong to the variants
    (("reduced: {D: 2}", "reduced: {D: 2}\npublished: {params: {value: 1, source: x}}"),
     "a family has no top-level 'published'", 12),
    (("  - name: Toy big", "  - name: toy-s"), "the name or alias 'toys' is also a name "
                                               "of variant 'Toy small'", 16),
    (("    date: 2021-03-04", "    date: 2020-03-04"), "variant 'Toy big': date 2020-03-04 is "
                                                       "not in year 2021", 19),
    (("    date: 2021-03-04", "    date: 'March 2021'"), "date is YYYY-MM-DD", 19),
    (("    training: {epochs: 3}", "    training: {epoch: 3}"), "unknown key 'epoch' (did you "
                                                             "mean 'epochs'?)", 21),
])
def test_family_errors_name_file_line_and_key(tmp_path, edit, message, line):
    p = toy(tmp_path, TOY.replace(*edit))
    with pytest.raises(SpecError) as err:
        load_specs(p)
    assert message in err.value.message
    assert (err.value.file, err.value.line) == (str(p), line)


def test_family_marker_without_variants_and_an_empty_table(tmp_path):
    plain = TOY.split("variants:")[0] + "published: {params: {value: 70, source: T}}\n"
    with pytest.raises(SpecError, match="family: true needs a 'variants:' list"):
        load_specs(toy(tmp_path, "family: true\n" + plain))
    with pytest.raises(SpecError, match="variants is empty"):
        load_specs(toy(tmp_path, TOY.split("variants:")[0] + "variants: []\n"))
    with pytest.raises(SpecError, match="needs a list of variants"):
        load_specs(toy(tmp_path, TOY.split("variants:")[0] + "variants:\n"))
    assert analyze(load_spec(toy(tmp_path, plain))).params == 70       # a plain spec


def test_schema_describes_families():
    schema = json_schema()
    props = schema["properties"]
    assert {"variants", "family", "date"} <= set(props)
    variant = schema["$defs"]["Variant"]
    assert variant["required"] == ["name"] and "layers" not in variant["properties"]
    assert variant["additionalProperties"] is False


# ---------------------------------------------------------------------------------- CLI

def test_cli_counts_a_family_side_by_side_or_one_variant(cli):
    code, out, err = cli(BERT)
    assert code == 0, err
    head = out.splitlines()[0].split()
    assert head == ["BERT", "base", "BERT", "large"]
    code, out, _ = cli(BERT, "--variant", "BERT-Large", "--json")
    assert code == 0 and json.loads(out)["params"] == 335_141_888
    code, out, _ = cli(BERT, "--json")
    assert [r["params"] for r in json.loads(out)] == [109_482_240, 335_141_888]
    # --set on one variant: layers = 2 -> 109,482,240 - 10 x 7,087,872 = 38,603,520
    code, out, _ = cli(BERT, "--variant", "BERT base", "--set", "layers=2", "--json")
    assert json.loads(out)["params"] == 109_482_240 - 10 * 7_087_872 == 38_603_520


def test_cli_unknown_variant_is_one_line_exit_2(cli):
    code, out, err = cli(BERT, "--variant", "BERT huge")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no variant 'BERT huge'" in err and "'BERT large'" in err
    code, _, err = cli(ROOT / "archspecs" / "alexnet.yaml", "--variant", "x")
    assert code == 2 and "not a family" in err


def test_catalog_detail_names_file_and_variant(cli):
    code, out, _ = cli("catalog", "BERT base")
    assert code == 0
    assert out.splitlines()[0] == "BERT base  (bert.yaml, variant 'BERT base' of the BERT family)"
    code, out, _ = cli("catalog", BERT, "--csv")                # the file: both variants
    assert code == 0 and out.count("bert.yaml,BERT ") == 2
    # 'BERT' is an alias of BERT large (as curators use it): the name resolves to that system,
    # as verify resolves it; a part of a name ('ber') lists every system it is part of
    code, out, _ = cli("catalog", "BERT")
    assert code == 0 and out.startswith("BERT large  (bert.yaml")
    code, out, _ = cli("catalog", "ber", "--csv")
    assert code == 0 and out.count("bert.yaml,BERT ") == 2


def test_spec_language_page_documents_every_header_key():
    """docs/spec-language.md's 'Header keys' table names exactly the header model's keys."""
    import re

    from estimator.spec.model import SpecHeader, Variant

    page = (ROOT / "docs" / "spec-language.md").read_text()
    table = page.split("## Header keys")[1].split("## Size families")[0]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(
        line.split("|")[1] for line in table.splitlines() if line.startswith("| `"))))
    structural = {"input", "inputs", "vars", "layers"}      # described at the top of the page
    assert documented == set(SpecHeader.model_fields) - structural
    assert set(Variant.model_fields) <= documented | structural


def test_a_variant_named_in_the_path_reaches_every_command(cli, tmp_path):
    """'bert.yaml#BERT large' is the variant in any command that takes a spec file."""
    assert load_spec(f"{BERT}#BERT large").name == "BERT large"
    assert [s.name for s in load_specs(f"{BERT}#bert-base-uncased")] == ["BERT base"]
    code, out, _ = cli(f"{BERT}#BERT large", "--json")
    assert code == 0 and json.loads(out)["params"] == 335_141_888
    # training compute of BERT base on 1e9 tokens: 3 x 96,637,943,808 FLOP x 1e9 / 512
    code, out, _ = cli("train", f"{BERT}#BERT base", "--tokens", "1e9", "--json")
    assert code == 0
    assert json.loads(out)["flops"] == \
        pytest.approx(3 * 96_637_943_808 * 1e9 / 512, rel=1e-12)
    with pytest.raises(SpecError, match="two variants asked for"):
        load_spec(f"{BERT}#BERT large", variant="BERT base")
    # a file whose name holds '#' is read as written
    odd = tmp_path / "toy#1.yaml"
    odd.write_text(TOY)
    assert [s.name for s in load_specs(odd)] == ["Toy small", "Toy big"]


def test_compute_optimal_comparison_takes_a_variant():
    """`paramcount budget --system` (curation.systems.system_of) resolves variants by name,
    alias or path: N = BERT large's 335,141,888 active parameters, D its 42,598,400,000 tokens."""
    from estimator.curation.systems import system_of

    want = {"name": "BERT large", "params": 335_141_888, "tokens": 42_598_400_000}
    assert system_of("BERT-Large") == system_of(f"{BERT}#BERT large") == want
