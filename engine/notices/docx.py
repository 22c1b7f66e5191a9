"""The notice as a Word document (python-docx, the ``[docx]`` extra), from the same context as
the Markdown, HTML and PDF ones: an office edits it before sealing, so it is plain paragraphs and
tables in the document's own styles, A4, the letter first and the annex from a new page.
"""

from __future__ import annotations

from io import BytesIO

from engine.notices.wording import Figure, Phrase

RED = (0xC0, 0x00, 0x00)
#: Body text in 仿宋 and headings in 黑体, as official documents are set; Word substitutes a font
#: the machine has when these are missing, Latin text stays in Times New Roman.
BODY_FONT, HEAD_FONT, LATIN_FONT = "FangSong", "SimHei", "Times New Roman"


def text_of(value) -> str:
    """A context value as Word text: figures keep their spaces unbreakable."""
    if isinstance(value, Phrase):
        return "".join(p.replace(" ", "\u00a0") if isinstance(p, Figure) else p for p in value.parts)
    if isinstance(value, Figure):
        return value.replace(" ", "\u00a0")
    return "" if value is None else str(value)


def to_docx(context: dict) -> bytes:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    # margins and sizes that keep the letters of the bundled examples on one page, 抄送 included
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(26), Mm(24)
    _fonts(doc.styles["Normal"], BODY_FONT, Pt(12))
    core = doc.core_properties
    core.title = text_of(context["title"])
    core.subject = text_of(context["notice_no"])
    core.author = text_of(context["letter"]["authority"])

    def para(
        text="", *, size=None, bold=False, color=None, align=None, indent=False, font=None, space_after=4, keep=False
    ):
        p = doc.add_paragraph()
        if text:
            run = p.add_run(text_of(text))
            run.bold = bold
            if size:
                run.font.size = Pt(size)
            if color:
                run.font.color.rgb = RGBColor(*color)
            if font:
                _run_font(run, font)
        if align:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(24)
        p.paragraph_format.space_after = Pt(space_after)
        p.paragraph_format.keep_with_next = keep
        return p

    def table(head, rows, widths=None):
        t = doc.add_table(rows=1, cols=len(head))
        t.style = doc.styles["Table Grid"]
        for cell, h in zip(t.rows[0].cells, head):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text_of(h))
            run.bold = True
            run.font.size = Pt(10.5)
        for row in rows:
            cells = t.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = ""
                run = cell.paragraphs[0].add_run(text_of(value))
                run.font.size = Pt(10.5)
        if widths:
            for row in t.rows:
                for cell, width in zip(row.cells, widths):
                    cell.width = Mm(width)
        doc.add_paragraph().paragraph_format.space_after = Pt(2)
        return t

    def letter(lt, note=None):
        if note:
            para(note, size=11, align=WD_ALIGN_PARAGRAPH.CENTER, color=(0x55, 0x55, 0x55))
        head = 24 if lt["lang"] == "zh" else 20  # the English name is longer: one line still
        para(lt["authority"], size=head, bold=True, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER, font=HEAD_FONT)
        number = para(lt["notice_no"], align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
        _rule(number)
        para(lt["title"], size=17, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, font=HEAD_FONT, space_after=12)
        para(lt["salutation"])
        for b in lt["blocks"]:
            if b["table"]:
                table(b["table"]["head"], b["table"]["rows"], [50, 60, 50])
            else:
                para(Phrase((b["n"],) + b["text"].parts) if b["n"] else b["text"], indent=True)
        para(lt["rights"], indent=True)
        para(lt["contact"], indent=True)
        para(lt["annex_note"], indent=True)
        if lt["draft_basis"]:
            para(lt["draft_basis"], size=10.5, color=(0x55, 0x55, 0x55), indent=True)
        sig = lt["signature"]  # the 落款 and 抄送 go to a page together, never apart
        para(sig["seal_line"], color=RED, align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=10, keep=True)
        para(sig["authority"], align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=0, keep=True)
        para(sig["date"], align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=12, keep=bool(lt["cc"]))
        if lt["cc"]:
            cc = para(lt["cc"], size=10.5)
            _rule(cc, top=True)

    def page_break():
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    letter(context["letter"])
    if context["translation"]:
        page_break()
        letter(context["translation"], context["translation_note"])
    doc.add_section(WD_SECTION.NEW_PAGE)
    a, A = context["annex"], context["t"]["annex"]
    para(a["title"], bold=True, font=HEAD_FONT)
    para(a["subtitle"], size=16, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, font=HEAD_FONT, space_after=10)

    def heading(text):
        para(text, size=13, bold=True, font=HEAD_FONT, space_after=2)

    def line(label, value):
        p = para()
        run = p.add_run(text_of(label) + A["colon"])
        run.bold = True
        run.font.size = Pt(11)
        p.add_run(text_of(value)).font.size = Pt(11)

    heading(A["facts_h"])
    table(["", ""], a["facts"], [45, 115])
    if a["revocation"]:
        heading(A["in_force_h"])
        table(a["revocation"]["head"], a["revocation"]["rows"])
    for o in a["outcomes"]:
        heading(o["heading"])
        if o["basis"]:
            line(A["basis"], o["basis"])
        if o["clause"]:
            line(A["clause"], o["clause"])
        if o["criteria"]:
            para(A["criteria_h"], bold=True, size=11, space_after=2)
            table(
                [A["criterion"], A["result"], A["code"]],
                [[c["text"], c["result"], c["code"]] for c in o["criteria"]],
                [105, 18, 37],
            )
        if o["notes"]:
            para(A["notes_h"], bold=True, size=11, space_after=2)
            table(["", A["code"]], [[n["text"], n["code"]] for n in o["notes"]], [123, 37])
        if o["calculation"]:
            line(A["calculation_h"], o["calculation"])
        if o["evidence"]:
            para(A["evidence_h"], bold=True, size=11, space_after=2)
            table(
                [A["item"], A["value"], A["declared"], A["origin"]],
                [[e["label"], e["value"], e["declared"], e["origin"]] for e in o["evidence"]],
                [55, 40, 30, 35],
            )
        if o["parameters"]:
            para(A["parameters_h"], bold=True, size=11, space_after=2)
            table(
                [A["parameter"], A["value"], A["effective_from"], A["reference"]],
                [[p["label"], p["value"], p["effective_from"], p["reference"]] for p in o["parameters"]],
                [45, 35, 30, 50],
            )
    if a["metering"]:
        m = a["metering"]
        heading(A["metering_h"])
        para(m["intro"], size=11)
        table(["", ""], m["facts"], [45, 115])
        table(
            [A["item"], A["declared"], A["metered"], A["tolerance"], A["check_result"]],
            [[r["label"], r["declared"], r["metered"], r["tolerance"], r["result"]] for r in m["rows"]],
        )
    if a["history"]:
        heading(A["history_h"])
        para(A["history_intro"], size=11)
        table([A["item"], A["declared"], A["record"]], [[d["label"], d["declared"], d["record"]] for d in a["history"]])
    if a["sources"]:
        heading(A["sources_h"])
        for i, s in enumerate(a["sources"], 1):
            para(f"{i}. {text_of(s)}", size=11, space_after=2)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _fonts(style, east_asian: str, size) -> None:
    style.font.name = LATIN_FONT
    style.font.size = size
    _east_asian(style.element, east_asian)


def _run_font(run, east_asian: str) -> None:
    run.font.name = LATIN_FONT
    _east_asian(run._element, east_asian)


def _east_asian(element, font: str) -> None:
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _rule(paragraph, top: bool = False) -> None:
    """A red rule under the 文号 (版头分隔线), or black rules around 抄送 (版记)."""
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.makeelement(qn("w:pBdr"), {})
    color = "000000" if top else "C00000"
    for side in ("top", "bottom") if top else ("bottom",):
        edge = borders.makeelement(
            qn(f"w:{side}"), {qn("w:val"): "single", qn("w:sz"): "12", qn("w:space"): "4", qn("w:color"): color}
        )
        borders.append(edge)
    ppr.append(borders)
