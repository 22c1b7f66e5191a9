"""A field's name for a person: the label, then the path (so an expert can still find it)."""

from __future__ import annotations

from engine.contract.labels import FIELD_LABELS
from engine.i18n.catalogue import Lang


def field(path: str, lang: Lang | None = None, *, with_path: bool = True) -> str:
    """``申报期放电量（kWh）（storage.discharged_kwh）`` / ``energy discharged (kWh) (storage.discharged_kwh)``.

    A path without a label (a list item, an unknown column) is shown as it is.
    """
    if lang is None:
        from engine.i18n.language import language

        lang = language()
    label = FIELD_LABELS.get(path)
    if label is None:
        from engine.i18n.catalogue import message

        section = message(f"errors.section.{path.replace('.', '_')}", lang)
        if section is None:
            return path
        name = section
    else:
        name = label[lang]
    if not with_path:
        return name
    return f"{name}（{path}）" if lang == "zh" else f"{name} ({path})"
