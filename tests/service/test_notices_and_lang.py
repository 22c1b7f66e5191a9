"""Notices as .docx through the API, and ?lang= choosing the language of every text we answer."""

import io
from urllib.parse import quote

import pytest
from conftest import bearer
from repo import WORKED_EXAMPLE

APP = "APP-2026-000123"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _confirmed(client, tokens) -> None:
    r = client.post("/v1/applications", content=WORKED_EXAMPLE.read_bytes(), headers=bearer(tokens["qinghe"]))
    assert r.status_code == 201, r.text
    assert client.post(f"/v1/applications/{APP}/proposal", headers=bearer(tokens["wang"])).status_code == 201
    assert client.post(f"/v1/applications/{APP}/confirm", headers=bearer(tokens["li"])).status_code == 200


@pytest.mark.parametrize(
    ("lang", "words"), [("zh", ("盖章处", "审查明细")), ("en", ("Seal here", "Notice of Approval"))]
)
def test_a_notice_issued_as_docx_is_served_as_a_word_document(client, tokens, lang, words):
    docx = pytest.importorskip("docx")
    _confirmed(client, tokens)
    r = client.post(
        f"/v1/applications/{APP}/notices", headers=bearer(tokens["wang"]), json={"format": "docx", "lang": lang}
    )
    assert r.status_code == 201, r.text
    first = r.json()["notices"][0]
    assert first["href"] == f"/v1/notices/{quote(first['number'], safe='')}.docx?lang={lang}"
    got = client.get(first["href"], headers=bearer(tokens["qinghe"]))
    assert got.status_code == 200 and got.headers["content-type"] == DOCX
    assert got.headers["content-disposition"].endswith(".docx")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs)
    assert first["number"] in text
    for word in words:
        assert word.lower() in text.lower()
    # issued as docx only: the pdf of the same number was never issued
    pdf = client.get(f"/v1/notices/{quote(first['number'], safe='')}.pdf?lang={lang}", headers=bearer(tokens["wang"]))
    assert pdf.status_code == 404 and pdf.json()["code"] == "not_found"


def test_an_unknown_extension_names_docx_among_the_formats(client, tokens):
    r = client.get("/v1/notices/X.odt", headers=bearer(tokens["wang"]), params={"lang": "en"})
    assert r.status_code == 404 and ".docx" in r.json()["detail"]


@pytest.mark.zh  # the service's default language, as a client meets it
def test_lang_chooses_the_problem_title_and_detail_not_the_machine_fields(client):
    bad = b'{"application_id": 7}'
    zh = client.post("/v1/check", content=bad).json()
    en = client.post("/v1/check", content=bad, params={"lang": "en"}).json()
    assert zh["status"] == en["status"] == 422 and zh["code"] == en["code"] == "invalid_application"
    assert zh["title"] == "内容无法处理" and en["title"] == "Unprocessable content"
    assert zh["detail"].startswith("申请无效") and en["detail"].startswith("invalid application")
    assert [e["path"] for e in zh["errors"]] == [e["path"] for e in en["errors"]] and en["errors"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "zh", "en"),
    [
        ("post", "/v1/check", {"content": b"{not json"}, 400, "不是有效的 JSON", "not valid JSON"),
        ("post", "/v1/check", {"content": b""}, 400, "请求体为空", "the body is empty"),
        (
            "post",
            "/v1/explain",
            {"content": b"{}", "params": {"outcome": "nope"}},
            422,
            "未知的结果",
            "unknown outcome",
        ),
        ("get", "/v1/notices/N.pdf", {}, 401, "Bearer 令牌", "bearer token"),
        ("get", "/v1/no-such-page", {}, 404, "未找到", "Not found"),
    ],
)
def test_lang_on_each_route(client, method, path, kwargs, status, zh, en):
    params = kwargs.pop("params", {})
    got = {
        lang: getattr(client, method)(path, params={**params, "lang": lang}, **kwargs).json() for lang in ("zh", "en")
    }
    assert got["zh"]["status"] == got["en"]["status"] == status
    assert zh in got["zh"]["detail"] and en in got["en"]["detail"]
    assert got["zh"]["code"] == got["en"]["code"]


def test_a_language_we_do_not_speak_is_the_query_s_error(client):
    r = client.post("/v1/check", content=WORKED_EXAMPLE.read_bytes(), params={"lang": "fr"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.lang"


@pytest.mark.zh  # the service's default language, as a client meets it
def test_without_lang_the_answer_is_in_chinese_and_a_good_check_says_which(client):
    r = client.post("/v1/check", content=WORKED_EXAMPLE.read_bytes(), params={"lang": "en"})
    assert r.status_code == 200 and r.headers["content-language"] == "en"
    assert client.post("/v1/check", content=b"[]").json()["title"] == "内容无法处理"
