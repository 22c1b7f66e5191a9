"""The authority file: strict like the rule files, every refusal naming the file and the key."""

import pytest

from engine.authority import ENV_VAR, EXAMPLE, AuthorityFileError, load_authority, resolve_authority

GOOD = "name: 某市能源局\ndocument_number: 晋能源补〔{year}〕{seq}号\ntimezone: Asia/Shanghai\n"


def write(tmp_path, text):
    path = tmp_path / "authority.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_example_says_it_is_one():
    a = load_authority(EXAMPLE)
    assert a.name == "某市能源局（示例）" and "AN EXAMPLE" in EXAMPLE.read_text(encoding="utf-8")
    assert a.number(2026, 17) == "晋能源补〔2026〕17号"


def test_chosen_by_option_then_environment_then_the_example(tmp_path, monkeypatch):
    mine = write(tmp_path, GOOD)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_authority().name == "某市能源局（示例）"
    monkeypatch.setenv(ENV_VAR, str(mine))
    assert resolve_authority().name == "某市能源局"
    other = tmp_path / "other.yaml"
    other.write_text(GOOD.replace("某市能源局", "另一局"), encoding="utf-8")
    assert resolve_authority(other).name == "另一局"


def test_the_number_form_is_filled_by_plain_replacement(tmp_path):
    a = load_authority(write(tmp_path, GOOD.replace("晋能源补〔{year}〕{seq}号", "'%s〔{year}〕第{seq}号 100%'")))
    assert a.number(2027, 3) == "%s〔2027〕第3号 100%"


@pytest.mark.parametrize(
    ("form", "why"),
    [
        ("晋〔{year}〕号", "exactly one {seq}"),
        ("晋〔{year}〕{seq}号{seq}", "exactly one {seq}"),
        ("晋{year}{year}{seq}", "exactly one {year}"),
        ("晋〔{year}〕{seq:03d}号", "exactly one {seq}"),
        ("晋〔{year}〕{seq}号{0}", "no braces but {year} and {seq}"),
        ("晋〔{year}〕{seq}号{__class__}", "no braces but {year} and {seq}"),
        ("晋〔{year}〕{seq}号}", "no braces but {year} and {seq}"),
    ],
)
def test_a_number_form_with_anything_but_year_and_seq_in_braces_is_refused(tmp_path, form, why):
    with pytest.raises(AuthorityFileError) as refused:
        load_authority(write(tmp_path, f"name: 某局\ndocument_number: '{form}'\ntimezone: Asia/Shanghai\n"))
    assert str(refused.value).startswith(f"authority file {tmp_path / 'authority.yaml'}: document_number: ")
    assert why in str(refused.value)


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        (GOOD + "name: 又一局\n", "name", "duplicate key (line 1 and line 4)"),
        (GOOD + "contact: x\n", "contact", "unknown key (expected one of name, document_number, timezone)"),
        (GOOD.replace("timezone: Asia/Shanghai\n", ""), "timezone", "required key is missing"),
        (GOOD.replace("Asia/Shanghai", "UTC"), "timezone", "Asia/Shanghai"),
        (GOOD.replace("name: 某市能源局", "name: ''"), "name", "printable characters"),
        ("base: &a 某局\nname: *a\ndocument_number: x{year}{seq}\ntimezone: Asia/Shanghai\n", "base", "anchor &a"),
        ("- a list\n", "(top level)", "expected a mapping, got list"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_key(tmp_path, text, key, why):
    with pytest.raises(AuthorityFileError) as refused:
        load_authority(write(tmp_path, text))
    message = str(refused.value)
    assert message.startswith(f"authority file {tmp_path / 'authority.yaml'}: {key}: ") and why in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(AuthorityFileError, match="nowhere.yaml: .*no such file"):
        load_authority(tmp_path / "nowhere.yaml")
