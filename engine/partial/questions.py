"""The next question: which unknown field to ask for first.

Every unknown field some outcome ``needs`` is a question; the one that settles the most
outcomes comes first (an undetermined outcome whose only need it is: once it is known, every
part of that outcome that was open reads known fields only, so the outcome is settled whatever
the answer), then the one more undetermined outcomes need, then the one that could add reasons
to more settled outcomes, then the contract's order. Labels are the contract's
(engine/contract/labels.py), so a form can ask one thing at a time, in Chinese and English.
"""

from __future__ import annotations

from engine.contract.application import FIELDS
from engine.contract.decision import Question
from engine.contract.labels import FIELD_LABELS

_ORDER = {path: i for i, path in enumerate(FIELDS)}


def questions(book, analyses: dict, outcomes: dict) -> list[Question]:
    """The unknown fields worth asking for, best first, each with its labels, the outcomes it
    would settle and every outcome whose ``needs`` names it."""
    open_ = [name for name, doc in outcomes.items() if doc["status"] == "undetermined"]
    asked: dict[str, dict] = {}
    for name, doc in outcomes.items():
        for path in doc.get("needs", ()):
            entry = asked.setdefault(path, {"settles": [], "affects": [], "undetermined": 0})
            entry["affects"].append(name)
            if name in open_:
                entry["undetermined"] += 1
                if doc["needs"] == [path]:
                    entry["settles"].append(name)
    ranked = sorted(
        asked.items(),
        key=lambda item: (
            -len(item[1]["settles"]),
            -item[1]["undetermined"],
            -len(item[1]["affects"]),
            _ORDER[item[0]],
        ),
    )
    return [
        {"field": path, "label": FIELD_LABELS[path], "settles": entry["settles"], "affects": entry["affects"]}
        for path, entry in ranked
    ]
