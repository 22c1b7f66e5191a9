"""The Taiyuan example with its telemetry, through the command line an officer uses:
submit → telemetry → decide → confirm → notice. The notice's evidence is the meter's, with the
declared value beside it."""

import pytest
from repo import ROOT

APP = "APP-2026-000123"
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
WORKED = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"


@pytest.fixture
def issued(cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'record.db'}"
    steps = [
        ("users", "add", "wang", "--role", "officer", "--display-name", "王芳", "--db", db),
        ("users", "add", "zhao", "--role", "reviewer", "--display-name", "赵敏", "--db", db),
        ("submit", WORKED, "--telemetry", TELEMETRY, "--db", db, "--by", "wang"),
        ("decide", APP, "--db", db, "--by", "wang"),
        ("confirm", APP, "--db", db, "--by", "zhao"),
    ]
    for args in steps:
        r = cli(*args)
        assert r.exit_code == 0, (args, r.output)
    out = {}
    for lang in ("zh", "en"):
        r = cli("notice", APP, "--out", tmp_path / lang, "--format", "md", "--lang", lang, "--db", db, "--by", "wang")
        assert r.exit_code == 0, r.output
        (approval,) = (tmp_path / lang).glob("*.approval.*.md")
        out[lang] = approval.read_text(encoding="utf-8").replace("\\", "")
    return out


def _rows(text: str, label: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith(f"| {label} |")]


def test_the_metered_values_decide_and_the_declared_stand_beside_them(issued):
    zh = issued["zh"]
    assert "给予用户侧储能度电补贴人民币175,009.71元" in zh
    assert "你单位申报的储能运行后峰值负荷为840千瓦，省级平台计量值为904.96千瓦" in zh
    # the evidence (metered, declared, source), then the comparison (declared, metered, tolerance)
    assert _rows(zh, "储能运行后峰值负荷") == [
        "| 储能运行后峰值负荷 | **904.96千瓦** | 840千瓦 | 省级平台计量数据 |",
        "| 储能运行后峰值负荷 | 840千瓦 | **904.96千瓦** | 18.0992千瓦 | **超出容差，按计量值认定** |",
    ]
    assert _rows(zh, "日间削峰比例")[0] == "| 日间削峰比例 | **24.59%** | 30% | 按上列数据计算 |"
    assert "175,009.7125元，四舍五入为人民币175,009.71元" in zh


def test_the_english_notice_says_the_same(issued):
    en = issued["en"]
    assert "CNY 175,009.71" in en
    assert _rows(en, "peak load with storage") == [
        "| peak load with storage | **904.96 kW** | 840 kW | provincial platform metering |",
        "| peak load with storage | 840 kW | **904.96 kW** | 18.0992 kW | **beyond tolerance, metered value used** |",
    ]
    assert _rows(en, "daytime peak-shaving ratio")[0] == (
        "| daytime peak-shaving ratio | **24.59%** | 30% | computed from the above |"
    )
    assert "175,009.7125 yuan, rounded half up to CNY 175,009.71" in en
