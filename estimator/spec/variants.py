"""The header models of a size family (a spec file with ``variants:``, spec/family.py): imported
only for a family, so that a plain spec builds neither these classes nor their validators."""
from typing import Any, Optional, Union

from pydantic import Field

from .model import InputDecl, Training, _Header


class VariantTraining(Training):
    """A variant's training block: merged key by key over the family's, so even ``source``
    may come from the family."""

    source: Optional[str] = Field(None, description="citation (default: the family's)")


class Variant(_Header):
    """One size of a family: its own name and published figures; ``vars`` override the
    family's (as ``--set`` does), ``training`` merges key by key over the family's, every other
    key replaces the family's."""

    name: str = Field(..., description="the variant's system name (unique in the catalog)")
    vars: Optional[dict[str, Union[int, float, str]]] = Field(
        None, description="overrides of the family's variables, applied as --set NAME=EXPR")
    training: Optional[VariantTraining] = Field(
        None, description="training inputs, merged key by key over the family's")


class SpecHeader(_Header):
    """The top level of a spec file (a plain spec, or a family with ``variants``)."""

    name: str = Field(..., description="system name (a family's: the family name)")
    family: Optional[bool] = Field(
        None, description="marks a family (optional: a `variants:` list is what makes one)")
    variants: Optional[list[Variant]] = Field(
        None, description="a size family: one entry per named variant, each a catalog system")
    input: Optional[InputDecl] = Field(None, description="the single input")
    inputs: Optional[dict[str, InputDecl]] = Field(None, description="several named inputs")
    layers: list[Any] = Field(..., description="the layer list")
