"""Question sheets (charter 2.2): one per centre with findings, in French, XLSX and HTML.

Written under ``restricted/coherence/<year>/``: ``centres/<structure>.xlsx|html`` (to send to
the centre; the XLSX has the columns the centre fills in and comes back through
:func:`~senacs_workbench.restricted.coherence.corrections_file.import_corrections`),
``synthese_<territory>.xlsx|html`` (one line per centre) and
``correspondants/<user>.xlsx|html`` (the centres of each correspondent's territories).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.render import RESTRICTED_BANNER, write_html, write_xlsx
from senacs_workbench.restricted.coherence.rules import SEVERITIES, SEVERITY_LABELS
from senacs_workbench.restricted.coherence.scope import in_territory, resolve_territory, territory_slug
from senacs_workbench.restricted.coherence.values import display_value
from senacs_workbench.restricted.store import connect
from senacs_workbench.trust.access import require_raw_access

# Columns of the question sheet (the corrections import reads them back by name).
COL_FINDING = "N° constat"
COL_YEAR = "Campagne"
COL_STRUCTURE = "Identifiant structure"
COL_VARIABLE = "Question (code)"
COL_LABEL = "Question"
COL_VALUE = "Valeur déclarée"
COL_MESSAGE = "Constat"
COL_ASK = "Notre question"
COL_RIGHT = "La valeur déclarée est-elle juste ? (Oui / Non)"
COL_NEW = "Valeur corrigée (si elle n'est pas juste)"
COL_WHY = "Vos explications"
QUESTION_COLUMNS = (
    COL_FINDING,
    COL_YEAR,
    COL_STRUCTURE,
    COL_VARIABLE,
    COL_LABEL,
    COL_VALUE,
    COL_MESSAGE,
    COL_ASK,
    COL_RIGHT,
    COL_NEW,
    COL_WHY,
)
WIDTHS = (10, 10, 14, 22, 32, 16, 60, 45, 18, 18, 40)

INTRO = (
    "Dans le cadre du contrôle de cohérence des réponses SENACS (charte SENACS, article 2.2), votre "
    "correspondant SENACS souhaite s'accorder avec vous sur quelques réponses qui lui paraissent "
    "surprenantes. Il ne s'agit pas d'un reproche : les données reposent sur vos déclarations et "
    "l'objectif est d'éviter tout biais dans l'analyse globale."
)
HOW_TO = (
    "Pour chaque ligne du tableau joint (fichier Excel), indiquez si la valeur déclarée est juste (Oui) ; "
    "sinon (Non), indiquez la valeur corrigée. Vous pouvez ajouter une explication. Renvoyez ensuite le "
    "fichier à votre correspondant."
)


@dataclass(frozen=True)
class SheetsResult:
    year: int
    centres: int
    findings: tuple[int, ...]
    paths: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def message_fr(self) -> str:
        return (
            f"{self.centres} fiche(s) de questions écrite(s) pour la campagne {self.year} "
            f"({len(self.findings)} constat(s)), plus les synthèses par territoire et par correspondant."
        )


def coherence_dir(workspace: Workspace, year: int) -> Path:
    return workspace.restricted / "coherence" / str(year)


def _departement_name(code: Any) -> str:
    try:
        return geo.territory("departement", str(code)).name
    except ValueError:
        return ""


def _finding_rows(finding: dict[str, Any], codebook: Any) -> list[dict[str, Any]]:
    values = fs.decode_values(finding["values_json"])
    rows = []
    for variable in str(finding["variables"]).split("|"):
        question = codebook.question(variable) if variable in codebook else None
        rows.append(
            {
                "variable": variable,
                "label": question.label if question else variable,
                "value": display_value(question, values.get(variable)),
                "raw": values.get(variable),
            }
        )
    return rows


def question_sheet_rows(findings: pd.DataFrame, year: int) -> list[list[Any]]:
    codebook = load_codebook(year)
    rows: list[list[Any]] = []
    for finding in findings.to_dict("records"):
        for number, item in enumerate(_finding_rows(finding, codebook)):
            first = number == 0
            rows.append(
                [
                    int(finding["finding_id"]),
                    year,
                    finding["structure_id"],
                    item["variable"],
                    item["label"],
                    item["value"],
                    finding["message"] if first else "(même constat)",
                    finding["question"] if first else "",
                    None,
                    None,
                    None,
                ]
            )
    return rows


def write_centre_sheet(
    workspace: Workspace, year: int, structure: dict[str, Any], findings: pd.DataFrame
) -> list[Path]:
    """The question sheet of one centre (XLSX to fill in, HTML to read)."""
    folder = coherence_dir(workspace, year) / "centres"
    sid = str(structure["structure_id"])
    codebook = load_codebook(year)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings = findings.sort_values(
        by=["severity", "finding_id"], key=lambda s: s.map(order) if s.name == "severity" else s
    )
    name = structure.get("nom_structure") or sid
    preamble = [
        f"Contrôle de cohérence SENACS — campagne {year}",
        f"Structure : {name} (identifiant {sid}), {_departement_name(structure.get('departement'))}",
        INTRO,
        HOW_TO,
    ]
    xlsx = write_xlsx(
        folder / f"{sid}.xlsx",
        "Questions",
        preamble,
        QUESTION_COLUMNS,
        question_sheet_rows(findings, year),
        widths=WIDTHS,
        choices={QUESTION_COLUMNS.index(COL_RIGHT): ["Oui", "Non"]},
        editable=(8, 9, 10),
    )
    items = [
        {
            "finding_id": int(f["finding_id"]),
            "severity": f["severity"],
            "severity_label": SEVERITY_LABELS.get(f["severity"], f["severity"]),
            "message": f["message"],
            "question": f["question"],
            "rows": _finding_rows(f, codebook),
            "context": "",
        }
        for f in findings.to_dict("records")
    ]
    html = write_html(
        folder / f"{sid}.html",
        "question_sheet.html.j2",
        title=f"Contrôle de cohérence SENACS {year} — {name}",
        banner=None,
        year=year,
        structure={**structure, "departement_name": _departement_name(structure.get("departement"))},
        intro=INTRO,
        how_to_answer=HOW_TO,
        findings=items,
    )
    return [xlsx, html]


def centre_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per centre: counts by severity and by status."""
    if findings.empty:
        return pd.DataFrame(columns=["structure_id", "nom_structure", "departement", "constats"])
    grouped = findings.groupby("structure_id")
    out = grouped.agg(
        nom_structure=("nom_structure", "first"), departement=("departement", "first"), constats=("finding_id", "size")
    ).reset_index()
    for severity in SEVERITIES:
        counts = findings[findings["severity"] == severity].groupby("structure_id").size()
        out[SEVERITY_LABELS[severity] + "s"] = out["structure_id"].map(counts).fillna(0).astype(int)
    for status in fs.STATUSES:
        counts = findings[findings["status"] == status].groupby("structure_id").size()
        out[fs.STATUS_LABELS[status]] = out["structure_id"].map(counts).fillna(0).astype(int)
    return out.sort_values(["constats", "structure_id"], ascending=[False, True]).reset_index(drop=True)


def _write_summary(path_stem: Path, title: str, subtitle: str, table: pd.DataFrame) -> list[Path]:
    renamed = table.rename(
        columns={
            "structure_id": "Identifiant",
            "nom_structure": "Structure",
            "departement": "Département",
            "constats": "Constats",
        }
    )
    columns = list(renamed.columns)
    rows = renamed.astype(object).where(renamed.notna(), None).values.tolist()
    xlsx = write_xlsx(path_stem.with_suffix(".xlsx"), "Synthèse", [title, subtitle, RESTRICTED_BANNER], columns, rows)
    html = write_html(
        path_stem.with_suffix(".html"),
        "summary.html.j2",
        title=title,
        subtitle=subtitle,
        banner=RESTRICTED_BANNER,
        columns=columns,
        rows=renamed.to_dict("records"),
    )
    return [xlsx, html]


def write_question_sheets(
    workspace: Workspace,
    year: int,
    territory: geo.Territory | str | None = None,
    *,
    structures: Sequence[str] | None = None,
    statuses: Sequence[str] = fs.ACTIVE,
    user: str | None = None,
) -> SheetsResult:
    """Write the question sheets of every centre with unresolved findings (access-checked)."""
    place = resolve_territory(workspace, territory)
    require_raw_access(
        workspace, "coherence_check", place, details={"year": year, "operation": "question_sheets"}, user=user
    )
    with connect(workspace, read_only=True) as con:
        every = fs.fetch_findings(con, "year = ?", [year])
    if every.empty:
        return SheetsResult(year, 0, ())
    every = every[in_territory(every, place).to_numpy()]
    selected = every[every["status"].isin(list(statuses))]
    if structures is not None:
        selected = selected[selected["structure_id"].isin(list(structures))]
    paths: list[Path] = []
    for sid, group in selected.groupby("structure_id", sort=True):
        first = group.iloc[0]
        structure = {"structure_id": sid, "nom_structure": first["nom_structure"], "departement": first["departement"]}
        paths += write_centre_sheet(workspace, year, structure, group)
    folder = coherence_dir(workspace, year)
    label = f"{geo.LEVEL_LABELS[place.level]} {place.name}"
    paths += _write_summary(
        folder / f"synthese_{territory_slug(place)}",
        f"Contrôle de cohérence SENACS {year} — synthèse ({label})",
        "Une ligne par structure ayant au moins un constat ; nombre de constats par gravité et par état.",
        centre_summary(every),
    )
    try:
        governance = load_governance(workspace.governance_path)
    except Exception:
        governance = None
    if governance is not None:
        for entry in governance.territories:
            if not (entry.territory.contains(place) or place.contains(entry.territory)):
                continue
            mine = every[in_territory(every, entry.territory).to_numpy()]
            for member in entry.correspondents:
                paths += _write_summary(
                    folder / "correspondants" / member.user,
                    f"Contrôle de cohérence SENACS {year} — constats suivis par {member.name}",
                    f"Correspondant {member.institution} pour {geo.LEVEL_LABELS[entry.territory.level]} "
                    f"{entry.territory.name}.",
                    centre_summary(mine),
                )
    return SheetsResult(
        year, int(selected["structure_id"].nunique()), tuple(int(i) for i in selected["finding_id"]), tuple(paths)
    )
