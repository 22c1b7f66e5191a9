"""Every field of the application has its Chinese and English label, in one place."""

import re

from engine.contract.application import FIELDS
from engine.contract.labels import FIELD_LABELS


def test_every_field_has_both_labels_and_nothing_else_has_one():
    assert list(FIELD_LABELS) == list(FIELDS)
    for path, label in FIELD_LABELS.items():
        assert set(label) == {"zh", "en"}, path
        assert re.search(r"[\u4e00-\u9fff]", label["zh"]), path
        assert label["en"].strip() and label["en"] == label["en"].strip(), path


def test_the_metered_facts_read_as_rules_metering_yaml_names_them(book):
    for check in book.metering.checks:
        if check.declared_term is None:
            assert FIELD_LABELS[check.declared] == check.label, check.fact
