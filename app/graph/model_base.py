"""The one pydantic configuration every graph model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GraphModel(BaseModel):
    """Base of every document, condition and plan model.

    - ``extra="forbid"``: a misspelt key is an error the marketer sees, not a silently ignored
      setting.
    - ``strict``: ``"5"`` is not 5; the canvas sends typed JSON and the worker must not guess.
    - aliases only: the JSON spelling (``from``, ``if``, ``not``, ``list``) is the contract; the
      Python attribute names exist because those words are keywords or builtins.
    - frozen: a parsed document is a value; the compiler and validator never mutate it.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
    )
