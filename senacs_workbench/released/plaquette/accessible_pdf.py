"""PDF/UA finishing of a tagged PDF printed by chromium: artifacts, XMP identification, viewer preferences.

Chromium's ``page.pdf(tagged=True, outline=True)`` writes a structure tree (headings, paragraphs,
tables, figures with their ``alt``), the document language and bookmarks. What it leaves out,
added here with pikepdf (PDF/UA-1, ISO 14289-1):

- the page furniture it draws outside the structure tree (the running footer of the ``@page``
  margin box, background rules and fills) is marked as ``/Artifact``: every content of every page
  is then either tagged or an artifact (a reader skips artifacts);
- the XMP metadata declares PDF/UA (``pdfuaid:part=1``) with the title and the language;
- the viewer shows the title, not the file name (``DisplayDocTitle``), and the document is marked.
"""

from __future__ import annotations

import io
from typing import Any

PATH_CONSTRUCTION = frozenset({"m", "l", "c", "v", "y", "h", "re"})
PATH_END = frozenset({"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"})
SINGLE_PAINTING = frozenset({"Do", "sh"})


def _end_of(ops: list[Any], start: int, ends: frozenset[str]) -> int:
    """Index of the first operator at or after ``start`` whose name is in ``ends`` (the last one if none)."""
    for index in range(start, len(ops)):
        if _name(ops[index]) in ends:
            return index
    return len(ops) - 1


def _name(instruction: Any) -> str:
    operator = getattr(instruction, "operator", None)
    return str(operator) if operator is not None else ""


def mark_artifacts(ops: list[Any]) -> tuple[list[Any], int]:
    """Wrap every text object, path and painted object outside marked content in ``/Artifact BMC … EMC``.

    Returns the new instructions and how many sequences were wrapped. Wrapping a whole text
    object (``BT … ET``) or a whole path (construction to painting operator) keeps marked content
    and graphics state properly nested.
    """
    import pikepdf

    begin = pikepdf.ContentStreamInstruction([pikepdf.Name.Artifact], pikepdf.Operator("BMC"))
    end = pikepdf.ContentStreamInstruction([], pikepdf.Operator("EMC"))
    out: list[Any] = []
    depth = wrapped = index = 0
    while index < len(ops):
        name = _name(ops[index])
        last = None
        if depth == 0:
            if name == "BT":
                last = _end_of(ops, index, frozenset({"ET"}))
            elif name in PATH_CONSTRUCTION:
                last = _end_of(ops, index, PATH_END)
            elif name in SINGLE_PAINTING or isinstance(ops[index], pikepdf.ContentStreamInlineImage):
                last = index
        if last is not None:
            out += [begin, *ops[index:last + 1], end]
            wrapped += 1
            index = last + 1
            continue
        if name in ("BDC", "BMC"):
            depth += 1
        elif name == "EMC":
            depth = max(0, depth - 1)
        out.append(ops[index])
        index += 1
    return out, wrapped


def finish(data: bytes, *, title: str, language: str = "fr-FR") -> bytes:
    """The PDF ``data`` with its untagged content marked as artifacts and its PDF/UA identification."""
    import pikepdf

    source = pikepdf.open(io.BytesIO(data))
    with source as pdf:
        for page in pdf.pages:
            ops = pikepdf.parse_content_stream(page)
            new_ops, wrapped = mark_artifacts(list(ops))
            if wrapped:
                page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(new_ops))
        pdf.Root.Lang = pdf.Root.get("/Lang", pikepdf.String(language))
        pdf.Root.MarkInfo = pikepdf.Dictionary(Type=pikepdf.Name.MarkInfo, Marked=True)
        preferences = pdf.Root.get("/ViewerPreferences", pikepdf.Dictionary())
        preferences.DisplayDocTitle = True
        pdf.Root.ViewerPreferences = preferences
        pdf.docinfo.Title = pikepdf.String(title)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["dc:language"] = [str(pdf.Root.Lang)]
            meta["pdfuaid:part"] = "1"
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


__all__ = ["finish", "mark_artifacts"]
