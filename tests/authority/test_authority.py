"""The authority file: strict like the rule files, every refusal naming the file and the key."""

import pytest

from engine.authority import ENV_VAR, EXAMPLE, AuthorityFileError, load_authority, resolve_authority

#: what every authority file has beside its name and number form
REST = """contact: {person: 张三, phone: 0351-1234567, address: 太原市某路1号}
reconsideration: 太原市人民政府
court: 太原市小店区人民法院
levy: {collector: 太原市财政局, account_name: 非税收入户, bank: 某银行, account: "6222 0000 1111", deadline_days: 15}
"""
GOOD = "name: 某市能源局\ndocument_number: 晋能源补〔{year}〕{seq}号\ntimezone: Asia/Shanghai\n" + REST


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
        load_authority(write(tmp_path, f"name: 某局\ndocument_number: '{form}'\ntimezone: Asia/Shanghai\n" + REST))
    assert str(refused.value).startswith(f"authority file {tmp_path / 'authority.yaml'}: document_number: ")
    assert why in str(refused.value)


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        (GOOD + "name: 又一局\n", "name", "duplicate key (line 1 and line 8)"),
        (GOOD + "contacts: x\n", "contacts", "unknown key (expected one of name, document_number, timezone, contact"),
        (GOOD.replace("court: 太原市小店区人民法院\n", ""), "court", "required key is missing"),
        (GOOD.replace("phone: 0351-1234567", "phone: call us"), "contact.phone", "a telephone number"),
        (
            GOOD.replace("address:", "adress:"),
            "contact.address",
            "required key is missing; contact.adress: unknown key",
        ),
        (GOOD.replace('account: "6222 0000 1111"', "account: 12"), "levy.account", "Input should be a valid string"),
        (GOOD.replace("deadline_days: 15", "deadline_days: 0"), "levy.deadline_days", "greater than or equal to 1"),
        (GOOD.replace("deadline_days: 15", 'deadline_days: "15"'), "levy.deadline_days", "valid integer"),
        (GOOD + "cc: [甲局]\nen: {cc: [A, B]}\n", "en.cc", "2 names for the 1 of cc"),
        (GOOD + "en: {nme: x}\n", "en.nme", "unknown key (expected one of name, contact, reconsideration"),
        (GOOD.replace("timezone: Asia/Shanghai\n", ""), "timezone", "required key is missing"),
        (GOOD.replace("Asia/Shanghai", "UTC"), "timezone", "Asia/Shanghai"),
        (GOOD.replace("name: 某市能源局", "name: ''"), "name", "printable characters"),
        (
            "base: &a 某局\nname: *a\ndocument_number: x{year}{seq}\ntimezone: Asia/Shanghai\n" + REST,
            "base",
            "anchor &a",
        ),
        ("- a list\n", "(top level)", "expected a mapping, got list"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_key(tmp_path, text, key, why):
    with pytest.raises(AuthorityFileError) as refused:
        load_authority(write(tmp_path, text))
    message = str(refused.value)
    assert message.startswith(f"authority file {tmp_path / 'authority.yaml'}: {key}: ") and why in message


def test_every_problem_is_named_at_once(tmp_path):
    text = GOOD.replace("phone: 0351-1234567", "phone: x").replace("court: 太原市小店区人民法院\n", "") + "fax: 1\n"
    with pytest.raises(AuthorityFileError) as refused:
        load_authority(write(tmp_path, text))
    keys = [k for k, _ in refused.value.problems]
    assert sorted(keys) == ["contact.phone", "court", "fax"], refused.value.problems
    assert "\n" not in str(refused.value)


def test_the_bundled_example_names_every_body_a_notice_prints():
    a = load_authority(EXAMPLE)
    assert all("示例" in v for v in (a.contact.person, a.contact.address, a.reconsideration, a.court, a.levy.collector))
    assert a.cc and all("示例" in c for c in a.cc) and a.levy.deadline_days == 15
    en = a.in_lang("en")
    assert en["name"] == "Energy Bureau of Mou City (example)" and en["contact"]["phone"] == a.contact.phone
    assert len(en["cc"]) == len(a.cc) and a.in_lang("zh")["court"] == a.court


def test_english_names_left_out_are_printed_as_written(tmp_path):
    a = load_authority(write(tmp_path, GOOD + "en: {name: City Energy Bureau}\n"))
    en = a.in_lang("en")
    assert en["name"] == "City Energy Bureau" and en["court"] == "太原市小店区人民法院" and en["cc"] == []


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(AuthorityFileError, match="nowhere.yaml: .*no such file"):
        load_authority(tmp_path / "nowhere.yaml")
