"""A block's side panel, both ways: settings → form values, and a submitted form → settings.

Each block class declares its panel's fields (``FORM``, ``app/graph/form_fields.py``); this
module only finds the class and gathers what could not be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from app.graph import block_class
from app.graph.form_fields import (
    UNIT_CHOICES,
    UNIT_NAMES,
    UNITS,
    WEEKDAY_CHOICES,
    FormReader,
    scalar,
    split_duration,
)
from app.i18n import _

__all__ = [
    "UNITS",
    "UNIT_CHOICES",
    "UNIT_NAMES",
    "WEEKDAY_CHOICES",
    "FormReader",
    "PanelErrors",
    "config_from_form",
    "form_values",
    "scalar",
    "split_duration",
]


class PanelErrors(Exception):
    """Values that cannot be read at all (a word where a number goes), by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def form_values(block_type: str, kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The panel's field values for saved settings (the inverse of :func:`config_from_form`)."""
    values: dict[str, Any] = dict(config)
    model = block_class(block_type, kind)
    for form_field in model.FORM if model else ():
        form_field.show(config, values)
    return values


def config_from_form(block_type: str, kind: str, form: FormData) -> dict[str, Any]:
    """The block's settings from its submitted panel; raises :class:`PanelErrors`."""
    model = block_class(block_type, kind)
    if model is None:
        raise PanelErrors(
            {
                "kind": _("there is no %(type)s block “%(kind)s”")
                % {"type": block_type, "kind": kind}
            }
        )
    reader = FormReader(form)
    config: dict[str, Any] = {}
    for form_field in model.FORM:
        form_field.read(reader, config)
    if reader.errors:
        raise PanelErrors(reader.errors)
    return config
