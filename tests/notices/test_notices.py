"""Every notice kind, in Chinese, English and bilingual, in every format, from complete decisions.

The samples are the bundled examples (the Taiyuan one decided on its telemetry), a denial on the
technical standard, a reporting failure (rectification, everything denied), and a corrected
version of the Lüliang application (its approval varied: a 变更/撤销 notice). A Chinese letter
may hold no ASCII word but its data (credit code, application id); its annex no other ASCII word
than those, the units quoted from the papers, file names and digests, and the reason codes of
its last column; no notice holds a dotted field path; an English notice no Chinese but its data.
"""

import datetime as dt
import html.parser as html_parser
import json
import re
import shutil
import struct
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import jinja2
import pytest
import recordkit
from appdoc import example

from engine.authority import resolve_authority
from engine.notices import render as notices
from engine.records import service as records
from engine.records.store import open_store
from engine.records.store.models import SubmissionIn, TelemetryIn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples/applications"
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
DAY = dt.date(2027, 1, 15)
FORMATS = ("md", "html", "pdf", "docx")
LANGS = ("zh", "en", "zh-en")
# Decisions to preview: the worked example (approval, denial, levy), a denial on the technical
# standard, and a reporting failure (rectification, everything denied).
CASES = {
    "example": {},
    "denial": {
        "storage.energy_density_wh_per_kg": "250",
        "storage.cycle_life": 9000,
        "equipment.realtime_data_analytics": False,
        "packaging.nondegradable_share": "0",
        "packaging.order_value_yuan": "12345.50",
    },
    "reporting": {
        "storage.platform.reporting_completeness": "0.90",
        "storage.platform.connected": False,
        "enterprise.name": "<script>alert(1)</script>",
    },
}
CODES = {"example": "91140100MA0L3K2P5R", "denial": "91140200MA0HW2NB8C", "reporting": "91141100MA0KQ7LX3M"}
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
DOTTED = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*\b")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# --- the record -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def decided(tmp_path_factory, book):
    """The three preview cases, confirmed."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('n') / 'r.db'}")
    recordkit.staff(store)
    for name, changes in CASES.items():
        recordkit.confirmed(store, f"N-{name}", book, **{"enterprise.credit_code": CODES[name], **changes})
    yield store
    store.dispose()


def _go(store, book, raw: bytes, telemetry: Path | None = None) -> str:
    app_id = json.loads(raw)["application_id"]
    records.submit(store, SubmissionIn(raw=raw, submitted_by=recordkit.OFFICER))
    if telemetry is not None:
        item = TelemetryIn(raw=telemetry.read_bytes(), filename=telemetry.name, submitted_by=recordkit.OFFICER)
        records.attach_telemetry(store, app_id, item, book)
    records.decide(store, app_id, book, recordkit.OFFICER, again=True)
    records.confirm(store, app_id, book, recordkit.REVIEWER)
    return app_id


@pytest.fixture(scope="module")
def issued(tmp_path_factory, book):
    """The bundled examples issued in every language and format, and a 变更/撤销 notice:
    {(kind, lang, fmt): path} for one notice of each kind, and the store."""
    out = tmp_path_factory.mktemp("issued")
    store = open_store(f"sqlite:///{out / 'r.db'}")
    recordkit.staff(store)
    ids = {
        f.name: _go(store, book, f.read_bytes(), TELEMETRY if "taiyuan" in f.name else None)
        for f in EXAMPLES.glob("*.json")
    }
    paths = {}

    def issue(app_id):
        for lang in LANGS:
            for fmt in FORMATS:
                for n in records.issue_notices(store, app_id, out / lang / fmt, recordkit.ISSUER, lang, fmt):
                    paths.setdefault((n.kind, lang, fmt), n.path)

    for app_id in ids.values():
        issue(app_id)
    lvliang = json.loads((EXAMPLES / "lvliang-sme-green-packaging.json").read_text(encoding="utf-8"))
    lvliang["packaging"]["order_count"] //= 2  # a corrected version: its approval is varied
    issue(_go(store, book, json.dumps(lvliang, ensure_ascii=False).encode()))
    yield paths, store
    store.dispose()


def render_all(store, case, lang, fmt):
    _, docs = records.notice_documents(store, f"N-{case}", lang, fmt, DAY)
    return dict(docs)


# --- reading every format as text -----------------------------------------------------
class _Text(html_parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "title")
        if tag in ("p", "tr", "h1", "h2", "h3", "h4", "li", "br", "div"):
            self.parts.append("\n")
        if tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def text_of(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".md":
        return data.decode("utf-8").replace("\\", "")
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(data.decode("utf-8"))
        return "".join(parser.parts)
    if path.suffix == ".pdf":
        if shutil.which("pdftotext"):
            return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        from pypdf import PdfReader

        return "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    import docx

    d = docx.Document(BytesIO(data))
    lines = [p.text for p in d.paragraphs]
    for t in d.tables:
        lines += [" | ".join(c.text for c in row.cells) for row in t.rows]
    return "\n".join(lines)


def plain(text: str, fmt: str) -> str:
    """A rendered notice's text as a reader sees it (no tags, no Markdown escapes)."""
    if fmt == "html":
        parser = _Text()
        parser.feed(text)
        return "".join(parser.parts)
    return text.replace("\\", "")


def split(text: str, lang: str) -> tuple[str, str]:
    """(letter, annex): the annex starts at its first heading."""
    marker = "基本情况" if lang.startswith("zh") else "Particulars"
    letter, _, annex = text.partition(marker)
    assert annex, f"no annex in {text[:200]!r}"
    return letter, annex


def allowed_ascii(store) -> list[str]:
    """The data a Chinese notice may print in ASCII: credit codes and application ids."""
    from sqlalchemy import text as sql

    with store.reading() as s:
        rows = s.execute(sql("SELECT raw FROM submission")).all()
    out = set()
    for (raw,) in rows:
        d = json.loads(raw)
        out |= {d["application_id"], d["enterprise"]["credit_code"]}
    return sorted(out, key=len, reverse=True)


def ascii_words(text: str, allowed: list[str], codes: set[str] = frozenset()) -> list[str]:
    for token in allowed:
        text = text.replace(token, " ")
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", " ", text)  # file and ruleset digests
    text = text.replace("taiyuan-2026.csv", " ")  # the telemetry file's name
    text = re.sub(r"Wh/kg|\bms\b", " ", text)  # units the papers' own words quote
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text) if w not in codes]


def reason_codes(book) -> set[str]:
    codes = {c.code for o in book.outcomes for c in o.criteria} | {t.reason for o in book.outcomes for t in o.tables}
    codes |= {e.code for o in book.outcomes for e in o.applies} | {e.code for e in book.exceptions}
    return codes | {"CAPPED", "DECLARED_DIFFERS_FROM_METERED", "HISTORY_FROM_RECORD", "OFFICER_OVERRIDE"}


# --- every kind, language and format ----------------------------------------------------
def test_each_decision_calls_for_the_right_notices(decided):
    kinds = {c: list(render_all(decided, c, "zh", "md")) for c in CASES}
    assert kinds == {
        "example": ["approval", "denial", "levy"],
        "denial": ["approval", "denial"],
        "reporting": ["denial", "rectification", "levy"],
    }


def test_every_kind_in_every_language_and_format(issued):
    paths, _ = issued
    assert {k for k, _, _ in paths} == set(notices.DOCUMENT_KINDS)
    for (kind, lang, fmt), path in paths.items():
        text = text_of(path)
        letter, annex = split(text, lang)
        if lang.startswith("zh"):
            letter = "".join(letter.split())  # a PDF's lines end where the page's do
            for part in (
                "某市能源局（示例）",
                "晋能源补〔",
                "抄送：",
                "联系人：李明（示例）",
                "盖章处",
                "附件：审查明细",
            ):
                assert part in letter, (kind, lang, fmt, part)
            assert "某市人民政府（示例）申请行政复议" in letter and "某市某区人民法院（示例）提起行政诉讼" in letter
            assert "审查明细" in text and "经办人" in annex
            if lang == "zh-en":
                assert "英文译本（供参考，以中文本为准）" in letter and "EnergyBureauofMouCity(example)" in letter
                # the reader of the translation is told so in English too
                assert "Englishtranslation(forreference;theChinesetextprevails)" in letter, (kind, fmt)
        else:
            for part in (
                "Energy Bureau of Mou City (example)",
                "Copies to:",
                "Contact: Li Ming (example)",
                "Seal here",
            ):
                assert part in letter.replace("\n", " "), (kind, lang, fmt, part)
            assert "Details of the examination" in text


def test_a_chinese_letter_has_no_english_no_codes_no_paths(issued, book):
    paths, store = issued
    allowed, codes = allowed_ascii(store), reason_codes(book)
    for (kind, lang, fmt), path in paths.items():
        if lang != "zh":
            continue
        letter, annex = split(text_of(path), lang)
        assert ascii_words(letter, allowed) == [], (kind, fmt)  # not even a reason code
        assert ascii_words(annex, allowed, codes) == [], (kind, fmt)  # codes only as codes
        assert not DOTTED.findall(letter + annex.replace("taiyuan-2026.csv", "")), (kind, fmt)


def test_an_english_notice_has_no_chinese_but_its_data(issued):
    paths, store = issued
    from sqlalchemy import text as sql

    with store.reading() as s:
        names = [json.loads(r)["enterprise"]["name"] for (r,) in s.execute(sql("SELECT raw FROM submission")).all()]
    data = names + [shown for _, shown in recordkit.STAFF.values()]
    for (kind, lang, fmt), path in paths.items():
        if lang != "en":
            continue
        text = text_of(path)
        letter, annex = split(text, lang)
        annex = annex.split("Policy research cited")[0]  # the papers are cited by their Chinese titles
        for d in data:
            letter, annex = letter.replace(d, ""), annex.replace(d, "")
        letter, annex = re.sub(r"晋能源补〔\d+〕\d+号", "", letter), re.sub(r"晋能源补〔\d+〕\d+号", "", annex)
        assert not HAN.findall(letter) and not HAN.findall(annex), (kind, fmt, HAN.findall(letter + annex)[:5])
        assert not CODE.findall(letter), (kind, fmt)
        assert not DOTTED.findall(letter + annex), (kind, fmt)


def test_the_rights_are_stated_once_with_the_bodies_they_go_to(issued):
    paths, _ = issued
    text = text_of(paths[("denial", "zh", "md")])
    letter, _ = split(text, "zh")
    assert letter.count("自收到本通知书之日起六十日内") == 1 and letter.count("六个月内") == 1
    assert "截至" not in letter and "60日" not in letter  # one time limit, said one way


def test_the_metered_decision_shows_the_meters_evidence(issued):
    """The Taiyuan example with its telemetry: the amount and every table come from the meter."""
    paths, _ = issued
    letter, annex = split(text_of(paths[("approval", "zh", "md")]), "zh")
    assert "给予用户侧储能度电补贴人民币175,009.71元" in letter
    assert "你单位申报的储能运行后峰值负荷为840千瓦，省级平台计量值为904.96千瓦" in letter
    assert "日间削峰比例约为24.59%，不低于20%，适用0.50元/千瓦时的标准 | 满足" in annex
    assert "| 储能运行后峰值负荷 | **904.96千瓦** | 840千瓦 | 省级平台计量数据 |" in annex
    assert "| 申报期放电量 | **350,019.425千瓦时** | 350,000千瓦时 | 省级平台计量数据 |" in annex
    assert "| 日间削峰比例 | **24.59%** | 30% | 按上列数据计算 |" in annex
    assert "350,019.425千瓦时 × 地区补贴系数1倍 = 175,009.7125元，四舍五入为人民币175,009.71元" in annex
    assert "30%，不低于" not in annex and "为840千瓦，" not in annex.replace("申报的储能运行后峰值负荷为840千瓦，", "")


def test_met_criteria_read_as_met_and_unmet_as_unmet(decided):
    met = render_all(decided, "example", "zh", "md")["approval"]
    # a met criterion carries no code: its code is the reason it would give when unmet
    assert "| 储能设备能量密度为268.5瓦时/千克，不低于能量密度下限261瓦时/千克 | 满足 |  |" in met
    assert "| 智能仓储系统具备实时数据分析功能 | 满足 |  |" in met
    assert "ENERGY_DENSITY_BELOW_MINIMUM" not in met and "MISSING_REALTIME_ANALYTICS" not in met
    denial = render_all(decided, "denial", "zh", "md")["denial"]
    letter, annex = split(denial, "zh")
    assert "不予批准逆向物流设备补贴。理由：智能仓储系统不具备实时数据分析功能。" in letter
    assert (
        "储能系统技术标准的审查结论为“未达标”（储能设备能量密度为250瓦时/千克，低于能量密度下限261瓦时/千克" in letter
    )
    assert "| 储能设备循环寿命为9,000次，低于循环寿命下限10,000次 | 不满足 | `CYCLE_LIFE_BELOW_MINIMUM` |" in annex
    en = render_all(decided, "denial", "en", "md")["denial"]
    assert (
        "the reverse-logistics equipment subsidy is not granted, because the warehousing system has no real-time data analytics."
        in en
    )


def test_amounts_and_quantities_are_grouped_and_exact(decided):
    text = render_all(decided, "denial", "zh", "md")
    assert "给予绿色包装运费补贴人民币120,000.00元" in text["approval"]  # 1,200,000 orders × 0.10 yuan
    assert "订单数量为1,200,000单，大于0单" in text["approval"]
    levy = render_all(decided, "example", "zh", "md")["levy"]
    assert (
        "征收不可降解包装环保税费人民币1,500,000.00元（征收比例1% × 订单金额150,000,000.00元 = 1,500,000.00元）" in levy
    )
    denial_levy = render_all(decided, "reporting", "zh", "md")["levy"]
    assert "人民币1,500,000.00元" in denial_levy
    small = render_all(decided, "denial", "en", "md")["approval"]
    assert "CNY 120,000.00" in small
    assert notices.money("123.455") == "123.455" and notices.money("1234567890123.46") == "1,234,567,890,123.46"


def test_the_levy_notice_says_who_collects_where_and_when(decided):
    zh = render_all(decided, "example", "zh", "md")["levy"]
    assert "请你单位自收到本通知书之日起15日内，将上述款项缴入某市财政局（示例）指定账户" in zh
    assert "账号：0000 0000 0000 0000 000" in zh and "该款项专项用于储能技术研发。" in zh
    en = render_all(decided, "example", "en", "md")["levy"]
    assert "within 15 days of receiving this notice into the account designated by Finance Bureau of Mou City" in en
    assert "CNY 1,500,000.00" in en and "earmarked for storage-technology R&D" in en


def test_the_rectification_deadline_counts_from_the_notice_date(decided):
    for fmt in ("md", "html"):
        zh = plain(render_all(decided, "reporting", "zh", fmt)["rectification"], fmt)
        assert "现责令你单位于2027年2月14日前完成整改" in zh  # 2027-01-15 + 30 days
        assert "储能系统未接入省级能源监管平台" in zh and "数据上报完整率为90%，低于数据上报完整率下限95%" in zh
        assert "已向省级平台上报碳减排量" in zh  # a criterion met, said as met
    en = plain(render_all(decided, "reporting", "en", "html")["rectification"], "html")
    assert "complete the rectification by 14 February 2027" in en


def test_the_letter_cites_the_normative_basis_and_says_it_is_an_assumption(decided, book):
    text = render_all(decided, "example", "zh", "md")["approval"]
    assert "本决定依据《山西省绿色电商与储能协同发展补贴管理办法》第八条、第九条、第十三条作出。" in text
    assert "所引规范依据为起草假设" in text
    assert all(o.basis and o.basis["assumption"] for o in book.outcomes)
    assert "谭含 (2026)《“碳中和”背景下绿色电商与储能产业协同发展研究》，6.2.3" in text  # the paper stays a source


def test_an_enterprise_called_script_is_rendered_as_text(decided):
    for kind, html in render_all(decided, "reporting", "zh", "html").items():
        assert "<script>" not in html, kind
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for md in render_all(decided, "reporting", "zh", "md").values():
        assert "<script>" not in md and "&lt;script>alert(1)&lt;/script>" in md


def test_a_missing_value_is_an_error_not_a_blank():
    env = notices.environment("html")
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("notice.html.j2").render(kind="levy", lang="zh")


def test_every_label_the_bundled_rulebook_needs_is_there(book):
    lab = notices.labels()
    for lang in ("zh", "en"):
        t = lab[lang]
        for name, p in book.params.items():
            assert name in t["params"], (lang, name)
            assert p.unit in t["units"], (lang, p.unit)
        for o in book.outcomes:
            for name, _ in o.lets:
                assert f"{o.name}.{name}" in t["vars"], (lang, o.name, name)
            for table in o.tables:
                assert f"{o.name}.{table.name}" in t["tables"] and table.unit in t["units"]
        from engine.contract.application import FIELDS

        for path, kind in FIELDS.items():
            if path.split(".")[0] in ("application_id", "period"):
                continue
            entry = t["fields"][path]
            if kind == "boolean":
                assert entry.get("yes") and entry.get("no"), (lang, path)
            elif kind == "decimal" or kind == "integer":
                assert entry.get("unit") in t["units"], (lang, path)


def test_the_fields_the_meter_decides_are_the_ones_it_replaces(book, example_application):
    """A notice puts back exactly the fields the meter replaced, with the values it decided on."""
    from engine.telemetry.crosscheck import facts_for, interval_minutes
    from engine.telemetry.metering import FACT_FIELDS
    from engine.telemetry.reader import read_telemetry

    app = example_application
    facts = facts_for(book, app, read_telemetry(TELEMETRY, interval_minutes(book, app.period.end)))
    assert set(FACT_FIELDS.values()) == set(facts.contract_values())
    fields, _, declared = notices.decided_fields(app, {"metering": {"used": "metered", "facts": facts.as_dict()}})
    for path, value in facts.contract_values().items():
        assert fields[path] == value and path in declared


def test_the_cli_writes_and_records_the_notices(decided, tmp_path):
    issued = records.issue_notices(decided, "N-reporting", tmp_path, recordkit.ISSUER, "en", "html", DAY)
    assert [n.kind for n in issued] == ["denial", "rectification", "levy"]
    assert all(n.path.read_text().startswith("<!DOCTYPE html>") for n in issued)
    assert [n.number for n in issued] == ["晋能源补〔2027〕1号", "晋能源补〔2027〕2号", "晋能源补〔2027〕3号"]
    from engine.records.views import show

    assert [(n.kind, n.lang, n.issued_by) for n in show(decided, "N-reporting").notices][-3:] == [
        ("denial", "en", "chen"),
        ("rectification", "en", "chen"),
        ("levy", "en", "chen"),
    ]
    # the preview now shows the numbers given
    assert "晋能源补〔2027〕2号" in render_all(decided, "reporting", "zh", "md")["rectification"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_revocation_notice_names_what_it_varies(book, lang):
    from engine.backends import decide
    from engine.contract.application import parse_application

    app = parse_application(example("N-old"))
    view = notices.revocation_view(
        old_notices=[("晋能源补〔2027〕1号", "approval", DAY), ("N-old-D3-LEVY", "levy", DAY)],
        old_totals={"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"},
        new_decision_id=9,
        new_application_id="N-old",
        new_confirmed_at=dt.datetime(2027, 1, 20, 2, 30, tzinfo=dt.UTC),
        new_totals={"subsidy_yuan": "600000.00", "levy_yuan": "0.00"},
        new_notices=["晋能源补〔2027〕7号"],
    )
    ctx = notices.notice_context(
        "revocation",
        decision=decide(book, app),
        app=app,
        book=book,
        decision_id=3,
        officer="王芳",
        decided_at=dt.datetime(2027, 1, 10, 1, 0, tzinfo=dt.UTC),
        notice_date=dt.date(2027, 1, 21),
        lang=lang,
        notice_no="晋能源补〔2027〕8号",
        authority=resolve_authority(),
        confirmer="赵敏",
        confirmed_at=dt.datetime(2027, 1, 10, 2, 0, tzinfo=dt.UTC),
        revocation=view,
    )
    for fmt in ("md", "html"):
        text = notices.render("revocation", ctx, fmt).replace("\\", "")
        assert ("变更/撤销通知书" if lang == "zh" else "Notice of Variation or Revocation") in text
        for shown in ("晋能源补〔2027〕8号", "晋能源补〔2027〕1号", "N-old-D3-LEVY", "晋能源补〔2027〕7号"):
            assert shown in text, shown
        assert "920,000.00" in text and "600,000.00" in text and "2027-01-20 10:30" in text  # confirmed, in CST
        assert ("申请行政复议" if lang == "zh" else "administrative reconsideration") in text
    docx = notices.document("revocation", ctx, "docx")
    assert "晋能源补〔2027〕1号" in text_of_bytes(docx, ".docx")


def text_of_bytes(data: bytes, suffix: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return text_of(Path(f.name))


def test_a_docx_is_a4_with_the_letter_then_the_annex(issued):
    import docx

    paths, _ = issued
    d = docx.Document(str(paths[("approval", "zh", "docx")]))
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert len(d.sections) == 2  # the annex starts on a page of its own
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "某市能源局（示例）" and texts[1].startswith("晋能源补〔") and texts[2] == "批准通知书"
    assert "（盖章处）" in texts and texts[texts.index("（盖章处）") + 1] == "某市能源局（示例）"
    assert len(d.tables) >= 5


# --- PDF ----------------------------------------------------------------------------------
def weasyprint_or_skip():
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint installed but the system has no Pango
        pytest.skip(f"PDF needs WeasyPrint and Pango: {exc}")


def test_no_amount_or_code_is_broken_across_lines_in_a_pdf(issued, book):
    weasyprint_or_skip()
    paths, _ = issued
    codes = reason_codes(book)
    for (kind, lang, fmt), path in paths.items():
        if fmt != "pdf":
            continue
        md = text_of(paths[(kind, lang, "md")])
        pdf = text_of(path)
        for figure in set(re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", md)):
            assert figure in pdf, (kind, lang, figure)
        for code in set(CODE.findall(md)) & codes:
            assert code in pdf, (kind, lang, code)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="no pdftoppm (apt-get install poppler-utils)")
def test_pdf_pages_turn_into_png_pages(issued, tmp_path):
    """Each kind's PDF, zh and en, as PNG pages (what was looked at by hand: see the README)."""
    weasyprint_or_skip()
    from pypdf import PdfReader

    paths, _ = issued
    for kind in ("approval", "denial", "rectification", "levy", "revocation"):
        for lang in ("zh", "en"):
            pdf = paths[(kind, lang, "pdf")]
            pages = len(PdfReader(str(pdf)).pages)
            stem = tmp_path / f"{kind}-{lang}"
            subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(stem)], check=True, timeout=120)
            pngs = sorted(tmp_path.glob(f"{kind}-{lang}-*.png"))
            assert len(pngs) == pages >= 2, (kind, lang)  # the letter, then the annex
            head = pngs[0].read_bytes()[:24]
            assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (331, 468)  # A4
            assert pngs[0].stat().st_size > 8_000, (kind, lang)  # a page with a letter on it


def test_a_chinese_pdf_embeds_its_font(decided):
    weasyprint_or_skip()
    pdf = render_all(decided, "example", "zh", "pdf")["approval"]
    font = notices.chinese_font()
    assert pdf.startswith(b"%PDF") and font is not None
    assert font.replace(" ", "-").encode() in b" ".join(embedded_fonts(pdf))
    assert render_all(decided, "example", "en", "pdf")["approval"].startswith(b"%PDF")


def embedded_fonts(pdf: bytes) -> set:
    import zlib

    names = set()
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            names |= set(re.findall(rb"/(?:BaseFont|FontName)\s*/([A-Za-z0-9+_-]+)", zlib.decompress(m.group(1))))
        except zlib.error:
            continue
    return names


def test_a_chinese_pdf_without_a_chinese_font_is_refused(monkeypatch):
    monkeypatch.setattr(notices, "chinese_font", lambda: None)
    with pytest.raises(notices.NoticeFontError, match="fonts-noto-cjk"):
        notices.to_pdf("<p>批准</p>", "zh")
    with pytest.raises(notices.NoticeFontError):
        notices.require_font("zh-en")


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium (apt-get install chromium)")
def test_the_html_notice_opens_in_a_real_browser(decided, tmp_path, root):
    html = tmp_path / "notice.html"
    html.write_text(render_all(decided, "reporting", "zh", "html")["rectification"], encoding="utf-8")
    png = tmp_path / "notice.png"
    subprocess.run(
        [
            sys.executable,
            str(root / "scripts/screenshot_notice.py"),
            str(html),
            str(png),
            "--chromium",
            "/usr/bin/chromium",
        ],
        check=True,
        timeout=180,
    )
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1000, 1400)
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one
