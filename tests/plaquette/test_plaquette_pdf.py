"""Built plaquettes checked with poppler: pages, section titles, suppressed cells, fonts, page images."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from plaquette_support import SECRET_BUDGET, SECRET_REGION_BENEVOLES, SECRET_SALARIES, YEAR, needs_chromium

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.plaquette.build import BuildResult, PlaquetteBuilder, read_record
from senacs_workbench.released.plaquette.content import SECTION_TITLES, Chart, Fig, assemble
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE
from senacs_workbench.restricted.publication.plaquette import build_many

pytestmark = needs_chromium

TERRITORIES = ("FR", "R75", "24")
STRUCTURES = pd.DataFrame({
    "nom": ["Centre social du Lac", "EVS La Grange", "Centre social Bastide"],
    "commune": ["Périgueux", "Sarlat-la-Canéda", "Bordeaux"],
    "departement": ["24", "24", "33"],
    "type_structure": ["CS", "EVS", "CS"],
    "mode_gestion": ["associatif", "associatif", "collectivite"],
    "budget_total": [SECRET_BUDGET, 1.0, 2.0],  # not public: must never be shown
})


@pytest.fixture(scope="module")
def built(released: Workspace) -> dict[str, BuildResult]:
    with PlaquetteBuilder() as builder:  # one kaleido server and one browser for the three
        results = build_many(released, TERRITORIES[:2], YEAR, builder=builder)
        results += build_many(released, TERRITORIES[2:], YEAR, structures=STRUCTURES, builder=builder)
    return dict(zip(TERRITORIES, results))


def _text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    text = subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.replace("\u2019", "'")  # the typographic apostrophe


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def _flat(text: str) -> str:
    """Digits with every kind of space and separator removed around them (1 234 567 → 1234567)."""
    return re.sub(r"(?<=\d)[\s\u202f\u00a0.,](?=\d)", "", text)


def _visible_html(html: str) -> str:
    """The text a reader of the HTML sees: text nodes, and the text nodes of the embedded SVG charts."""

    def chart_text(match: re.Match[str]) -> str:
        svg = base64.b64decode(match.group(1)).decode("utf-8")
        return " ".join(re.findall(r">([^<>]+)<", svg))

    html = re.sub(r'"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', chart_text, html)
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return " ".join(re.findall(r">([^<>]+)<", html)).replace("\u2019", "'")


def _secret_patterns(value: float) -> list[str]:
    whole = f"{value:.0f}"
    return [whole, f"{value:.2f}".rstrip("0").rstrip(".")]


@pytest.mark.parametrize("territory", TERRITORIES)
def test_a4_pages_and_every_section_title(built: dict[str, BuildResult], territory: str) -> None:
    pdf = built[territory].pdf
    assert 12 <= _pages(pdf) <= 20
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "(A4)" in info
    text = " ".join(_text(pdf).split())
    for key, title in SECTION_TITLES.items():
        wanted = " ".join(title.split())
        assert wanted in text, (territory, key, title)
    assert "Thème de l'année : Les jeunes adultes (18-30 ans)" in text


def test_no_figure_from_a_suppressed_cell_in_pdf_or_html(built: dict[str, BuildResult]) -> None:
    for territory, result in built.items():
        for document in (_text(result.pdf), _visible_html(result.html.read_text(encoding="utf-8"))):
            flat = _flat(document)
            for secret in (SECRET_BUDGET, SECRET_SALARIES, SECRET_REGION_BENEVOLES, SECRET_BUDGET / 40):
                for pattern in _secret_patterns(secret):
                    assert pattern not in flat, (territory, pattern)


def test_suppressed_cells_are_s_with_the_footnote_on_their_page(built: dict[str, BuildResult]) -> None:
    pdf = built["24"].pdf
    pages = [_text(pdf, p) for p in range(1, _pages(pdf) + 1)]
    finances = next(t for t in pages if "Finances" in t and "Budget moyen par type" in t)
    lines = [line for line in finances.splitlines() if "budget cumulé" in line.lower() or "Budget cumulé" in line]
    assert lines, finances
    assert re.search(r"(^|\s)s(\s|$)", finances)
    footnote = " ".join(CONFIDENTIALITY_FOOTNOTE[1:].split())
    assert footnote.strip(" :")[:40] in " ".join(finances.split())
    hr = next(t for t in pages if "Ressources humaines" in t and "Emploi et bénévolat" in t)
    assert re.search(r"Salariés\s+s\s", hr)
    region = " ".join(_text(built["R75"].pdf).split())
    assert "donnée soumise au secret statistique" in region


def test_fonts_are_embedded(built: dict[str, BuildResult]) -> None:
    for result in built.values():
        out = subprocess.run(["pdffonts", str(result.pdf)], check=True, capture_output=True, text=True).stdout
        rows = out.splitlines()[2:]
        assert rows, out
        for row in rows:
            assert row.split()[-5] == "yes", row  # the "emb" column
        assert "Liberation" in out


def _ppm_pixels(path: Path) -> list[tuple[int, int, int]]:
    """RGB pixels of a binary PPM (pdftoppm's default output), without an imaging library."""
    data = path.read_bytes()
    fields = data.split(maxsplit=4)  # P6, width, height, maxval, pixels
    assert fields[0] == b"P6"
    width, height = int(fields[1]), int(fields[2])
    pixels = data[len(data) - width * height * 3:]
    return [(pixels[i], pixels[i + 1], pixels[i + 2]) for i in range(0, len(pixels), 3)]


def test_cover_page_renders_as_a_designed_page(built: dict[str, BuildResult], tmp_path: Path) -> None:
    pdf = built["FR"].pdf
    subprocess.run(["pdftoppm", "-r", "20", "-f", "1", "-l", "3", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.ppm"))
    assert len(pages) == 3
    cover = _ppm_pixels(pages[0])
    r, g, b = (sum(p[i] for p in cover) / len(cover) for i in range(3))
    assert b > r + 30 and g > r + 30, "the cover is the brand colour (teal), not a blank page"
    assert len(set(_ppm_pixels(pages[2]))) > 20, "the map page is not blank"


def test_html_is_self_contained_with_svg_charts(built: dict[str, BuildResult]) -> None:
    html = built["FR"].html.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert html.count("data:image/svg+xml;base64,") >= 6
    assert "<svg" in html  # the map
    visible = _visible_html(html)
    assert "\u00a0%" in visible and "\u202f" in visible  # 12,5 % and 1 234 (French typography)
    assert "«\u00a0animation globale\u00a0»" in visible and "sociale\u00a0: de quoi parle-t-on\u202f?" in visible
    assert " :" not in visible and " ?" not in visible


def test_public_structure_list_only_public_fields(built: dict[str, BuildResult]) -> None:
    text = _text(built["24"].pdf)
    assert "Centre social du Lac" in text and "EVS La Grange" in text
    assert "Centre social Bastide" not in text  # another département
    assert "Périgueux" in text and "Associatif" in text


def test_record_is_a_draft_bound_to_the_pdf(built: dict[str, BuildResult], released: Workspace) -> None:
    for result in built.values():
        assert result.pdf.parent == released.reports / "committee" / "plaquettes" / str(YEAR) / result.territory
        record = read_record(result.pdf.parent)
        assert record is not None and record["approvals"] == []
        assert record["pdf_sha256"] == result.pdf_hash == hashlib.sha256(result.pdf.read_bytes()).hexdigest()


def test_figures_keep_suppressed_values_out_and_charts_skip_them() -> None:
    hidden = Fig("Département", 123456.0, "B", 4, "eur")
    assert hidden.value is None and hidden.text == "s" and hidden.suppressed
    shown = Fig("Caf", 1234567.0, "V", 12, "eur")
    assert shown.text == "1\u202f234\u202f567\u00a0€" and shown.n_text == "n\u00a0=\u00a012"
    assert Fig("x", 0.045, "V", 3, "ratio").text == "4,5\u00a0%"
    assert Fig("x", 0.125, "V", 3, "ratio").text == "12\u00a0%"
    chart = Chart("c", "t", (hidden, shown))
    assert chart.plotted == (shown,) and chart.left_out == (hidden,)


def test_content_reads_released_bundles_only(released: Workspace) -> None:
    content = assemble(released.published, "24", YEAR)
    budget = content.sections["finances"].figs["budget"]
    assert budget.suppressed and budget.value is None and budget.n is not None
    assert content.sections["finances"].has_suppressed


def _structure_count(pdf, tag: str) -> int:
    """How many elements of type ``tag`` (``/Table``, ``/Caption``) the PDF's structure tree holds."""
    import pikepdf

    count = 0
    todo = [pdf.Root.StructTreeRoot.K]
    while todo:
        element = todo.pop()
        if isinstance(element, pikepdf.Array):
            todo += list(element)
        elif isinstance(element, pikepdf.Dictionary) and "/S" in element:
            count += str(element.S) == tag
            if element.get("/K") is not None:
                todo.append(element.K)
    return count


def _figures_alt(pdf) -> list[str]:
    """The ``/Alt`` of every ``/Figure`` of the PDF's structure tree."""
    import pikepdf

    found: list[str] = []

    def walk(element) -> None:
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            if str(element.S) == "/Figure":
                found.append(str(element.get("/Alt", "")))
            kids = element.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
                walk(kid)

    walk(pdf.Root.StructTreeRoot.K)
    return found


@pytest.mark.parametrize("territory", TERRITORIES)
def test_the_pdf_is_pdf_ua(built: dict[str, BuildResult], territory: str) -> None:
    """PDF/UA-1 as the ``pdfua`` checker sees it, and the structure tree read with pikepdf."""
    import pikepdf
    from pdfua import Severity, validate

    path = built[territory].pdf
    report = validate(str(path))
    errors = [f"{f.rule_id}: {f.message}" for f in report.findings if f.severity is Severity.ERROR]
    assert errors == [], errors
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang).startswith("fr")
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) and bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.docinfo.Title).startswith("SENACS 2024 — ")
        meta = pdf.open_metadata()
        assert meta.get("pdfuaid:part") == "1" and meta.get("dc:title") == str(pdf.docinfo.Title)
        with pdf.open_outline() as outline:
            items, titles = list(outline.root), []
            while items:
                item = items.pop()
                titles.append(item.title)
                items += list(item.children)
        assert len(titles) >= 8, titles  # bookmarks: the title and every section
        alts = _figures_alt(pdf)
        tables = _structure_count(pdf, "/Table")
        assert tables >= 3 and _structure_count(pdf, "/Caption") == tables  # every table is named
    charts = [a for a in alts if a.startswith("Graphique")]
    maps = [a for a in alts if a.startswith("Carte")]
    assert len(charts) >= 5 and all("Valeurs : " in a for a in charts), alts
    assert len(maps) == 2, alts  # the cover's map and the map of structures, each with its text
    assert len(charts) + len(maps) == len(alts), "every figure has a text alternative"
    assert any("structures" in a for a in maps)
