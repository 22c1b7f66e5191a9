"""The catalogue is complete: every key in both languages, the same placeholders, every key used exists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.errors import ShuangtanError
from engine.i18n import LANGS, catalogue, field, t, use
from engine.i18n.catalogue import PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_is_in_every_language():
    cat = catalogue()
    zh, en = set(cat["zh"]), set(cat["en"])
    assert not zh - en, f"only in Chinese: {sorted(zh - en)}"
    assert not en - zh, f"only in English: {sorted(en - zh)}"


@pytest.mark.parametrize("lang", LANGS)
def test_no_message_is_empty(lang):
    empty = [k for k, v in catalogue()[lang].items() if not v.strip()]
    assert not empty


def test_both_languages_fill_the_same_placeholders():
    cat = catalogue()
    differ = {
        key: (PLACEHOLDER.findall(cat["zh"][key]), PLACEHOLDER.findall(cat["en"][key]))
        for key in cat["zh"]
        if set(PLACEHOLDER.findall(cat["zh"][key])) != set(PLACEHOLDER.findall(cat["en"][key]))
    }
    assert not differ


def _keys_used_in_code() -> set[tuple[str, str]]:
    """Every literal first argument of ``t(...)`` in the package, with where it is."""
    used = set()
    for path in (ROOT / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add((node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return used


def test_every_key_the_code_asks_for_exists():
    known = set(catalogue()["zh"])
    missing = sorted(where + " " + key for key, where in _keys_used_in_code() if key not in known)
    assert not missing


def test_chinese_is_the_default_and_use_switches(monkeypatch):
    monkeypatch.delenv("SHUANGTAN_LANG", raising=False)
    assert t("common.answer_yes") == "是"
    with use("en"):
        assert t("common.answer_yes") == "yes"
        assert field("storage.discharged_kwh") == "energy discharged (kWh) (storage.discharged_kwh)"
    monkeypatch.setenv("SHUANGTAN_LANG", "en_US")
    assert t("common.answer_yes") == "yes"
    with use("zh-CN"):
        assert field("storage.discharged_kwh") == "申报期放电量（kWh）（storage.discharged_kwh）"


def test_an_unknown_language_or_key_is_refused(monkeypatch):
    monkeypatch.setenv("SHUANGTAN_LANG", "fr")
    with pytest.raises(ShuangtanError, match="SHUANGTAN_LANG"):
        t("common.answer_yes")
    with pytest.raises(ShuangtanError, match="no message"):
        t("common.no_such_key", lang="zh")
