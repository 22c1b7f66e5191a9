"""shuangtan template: a workbook an enterprise fills in, read back by evaluate and submit unchanged."""

from __future__ import annotations

import json

import openpyxl
import pytest
from tablekit import as_typed_cells, example_documents, outcomes, run

from engine.contract.application import FIELDS

#: the template as an enterprise gets it by default: in Chinese
pytestmark = pytest.mark.zh


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "申报模板.xlsx"
    r = run("template", "--out", path)
    assert r.exit_code == 0, r.output
    assert "已写出申报模板" in r.output
    return path


def test_the_template_has_bilingual_headers_drop_downs_formats_and_instructions(template):
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["申报", "说明"]
    sheet = book["申报"]
    headers = [c.value for c in sheet[1]]
    assert len(headers) == len(FIELDS)
    code = headers.index("统一社会信用代码\nunified social credit code\n(enterprise.credit_code)")
    assert sheet.cell(row=2, column=code + 1).number_format == "@"
    lists = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    assert set(lists) == {'"是,否"', '"sme,large"'}
    size = headers.index(next(h for h in headers if h.endswith("(enterprise.size)"))) + 1
    assert openpyxl.utils.get_column_letter(size) + "2" in lists['"sme,large"']
    instructions = [row[0] for row in book["说明"].iter_rows(values_only=True) if row and row[0]]
    assert any("文本" in line and "统一社会信用代码" in line for line in instructions)
    assert "storage.discharged_kwh" in instructions


def test_unknown_suffix_for_the_template_is_refused(tmp_path):
    r = run("template", "--out", tmp_path / "t.csv")
    assert r.exit_code == 2 and ".xlsx" in r.output and not (tmp_path / "t.csv").exists()


def test_a_filled_template_decides_as_the_json_examples(template, tmp_path, sqlite_url):
    """Filled as a person does (是/否, numbers typed as numbers), evaluated: the decisions of the
    bundled examples' JSON documents, outcome by outcome."""
    docs = example_documents()
    book = openpyxl.load_workbook(template)
    sheet = book["申报"]
    columns = [h.rsplit("(", 1)[1].rstrip(")") for h in (c.value for c in sheet[1])]
    for i, doc in enumerate(docs, start=2):
        cells = as_typed_cells(doc)
        for j, column in enumerate(columns, start=1):
            if column in cells:
                sheet.cell(row=i, column=j, value=cells[column])
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    jsonl = tmp_path / "examples.jsonl"
    jsonl.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    for src in (filled, jsonl):
        r = run("evaluate", src, "--out", tmp_path / f"{src.stem}.out.jsonl", "-j", "1")
        assert r.exit_code == 0 and f"已认定 {len(docs)} 份，退回 0 份" in r.output, r.output
    assert outcomes(tmp_path / "filled.out.jsonl") == outcomes(tmp_path / "examples.out.jsonl")
    assert len(outcomes(tmp_path / "filled.out.jsonl")) >= len(docs) * 5

    r = run("submit", "--db", sqlite_url, "--by", "li", filled)
    assert f"接收 {len(docs)} 份，退回 0 份" in r.output, r.output
