"""Infra-départemental analysis (notebook ``infra_departemental``; charter 3.1). Audience: restricted.

For one département and year: its EPCI side by side (a straddling EPCI whole, with the
départements it covers), its communes with enough structures, and the QPV coverage, next to
the département's own figures. EPCI and commune cells come from the authorised bundle
(:mod:`senacs_workbench.restricted.authorised_reader`: preparer and correspondents only, access-checked),
protected jointly with the committee's release; the département's figures come from that
released committee bundle. No figure is computed here from raw answers; the QPV coverage counts
structures per commune from their public identity data (the directory published on senacs.fr).

QPV-hosting communes: the official list (ANCT) is not shipped with the package; the notebook
takes it as a CSV file (a ``code_commune`` or ``code`` column of INSEE codes). Without it, the
communes of 10 000 inhabitants or more are used as an approximation, and the report says so.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import InputError
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.analysis.audience import RESTRICTED
from senacs_workbench.released.analysis.common import (
    CellSource,
    FigureSpec,
    Indicator,
    Report,
    Section,
    display_name,
    indicator_frame,
    write_key_figures,
    year_label,
)
from senacs_workbench.released.published import SUPPRESSED_MARK
from senacs_workbench.restricted.authorised_reader import InfraTables, epcis_of, read_infra_tables

QPV_APPROXIMATION_POPULATION = 10_000
QPV_CATEGORY = "qpv"
PEOPLE = "personnes_touchees"
HUMAN_RESOURCES = ("salaries", "etp", "benevoles_activite")
FINANCES = ("budget_total", "financement_caf", "financement_communes", "financement_interco")


class InfraSource:
    """Released cells looked up per place: EPCI and communes from the authorised bundle, the
    département (and above) from the committee's released bundles. Same interface as
    :class:`~senacs_workbench.released.analysis.common.CellSource`, so :func:`indicator_frame` works on both."""

    COLUMNS: ClassVar[list[str]] = ["variable", "statistic", "answer", "category", "value", "n", "status"]

    def __init__(self, tables: InfraTables, committee: CellSource) -> None:
        self.tables = tables
        self.committee = committee
        self.year = tables.year

    def cells(self, place: geo.Territory, variables: tuple[str, ...], breakdown: str = "") -> pd.DataFrame:
        if place.level not in ("epci", "commune"):
            return self.committee.cells(place, variables, breakdown)
        frame = self.tables.cells
        rows = frame[(frame["level"] == place.level) & (frame["territory"] == place.code)
                     & (frame["breakdown"] == breakdown) & frame["variable"].isin(variables)]
        return rows[self.COLUMNS].reset_index(drop=True)


def qpv_communes(departement: str, reference: Path | str | None = None) -> tuple[pd.DataFrame, str]:
    """QPV-hosting communes of ``departement`` (``code, nom``) and a French note on the source."""
    communes = geo.communes()
    own = communes[communes["departement"] == departement][["code", "nom", "population"]]
    if reference:
        path = Path(reference)
        try:
            listed = pd.read_csv(path, sep=None, engine="python", dtype=str)
        except (OSError, ValueError) as error:
            raise InputError(f"Liste des communes en QPV illisible ({path}) : {error}", file=str(path)) from error
        column = next((c for c in ("code_commune", "code", "insee_com", "code_insee") if c in listed.columns), None)
        if column is None:
            raise InputError(
                f"{path} : colonne « code_commune » (ou « code ») absente de la liste des communes en QPV.",
                file=str(path), column="code_commune")
        codes = set(listed[column].dropna().str.strip())
        chosen = own[own["code"].isin(codes)]
        note = f"Communes accueillant un quartier prioritaire : liste fournie ({path.name})."
    else:
        chosen = own[own["population"] >= QPV_APPROXIMATION_POPULATION]
        note = ("Liste officielle des quartiers prioritaires (ANCT) non fournie : à titre d'approximation, les "
                f"communes de {format_number(QPV_APPROXIMATION_POPULATION)} habitants ou plus sont retenues. "
                "Passez le fichier de l'ANCT en paramètre « qpv_communes » pour la liste exacte.")
    return chosen[["code", "nom"]].sort_values("nom").reset_index(drop=True), note


def _places(level: str, codes: list[str]) -> list[geo.Territory]:
    return [geo.territory(level, code) for code in codes]  # type: ignore[arg-type]


def _cell_text(row: pd.Series) -> str:
    if row["status"] == "absent":
        return "–"
    n = "–" if row["n"] is None or (isinstance(row["n"], float) and math.isnan(row["n"])) else format_number(row["n"])
    return f"{row['shown']} (n = {n})"


def side_by_side(data: pd.DataFrame, first_column: str, names: dict[str, str]) -> pd.DataFrame:
    """One row per place, one column per indicator: ``value (n = …)``; ``s`` where suppressed."""
    frame = data.assign(text=data.apply(_cell_text, axis=1))
    table = frame.pivot_table(index="territory", columns="label", values="text", aggfunc="first", sort=False)
    table = table.reindex(list(dict.fromkeys(frame["territory"])))
    table.insert(0, first_column, [names.get(t, t) for t in table.index])
    return table.reset_index(drop=True).rename_axis(columns=None)


def _structures(data: pd.DataFrame) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for territory, rows in data.groupby("territory", sort=False):
        values = rows["structures"].dropna()
        out[str(territory)] = int(values.iloc[0]) if len(values) else None
    return out


def build(workspace_dir: Path | str, departement: str, year: int, qpv_reference: Path | str | None = None,
          user: str | None = None) -> Report:
    workspace = Workspace(Path(workspace_dir).resolve())
    tables = read_infra_tables(workspace, year, departement, user)
    committee = CellSource(workspace.published, year)
    source = InfraSource(tables, committee)
    dep = tables.departement
    codebook = load_codebook(year)
    epci_table = epcis_of(departement)
    released_epci = [e for e in epci_table["epci"] if e in set(tables.epcis)]
    spans = dict(zip(epci_table["epci"], epci_table["departements"], strict=True))
    workspace_place = workspace.territory
    partial = workspace_place.level == "departement"

    def epci_name(code: str) -> str:
        name = geo.territory("epci", code).name
        others = [d for d in spans.get(code, []) if d != departement]
        if others:
            name += f" (à cheval sur {', '.join([departement, *others])}"
            name += " : partie située dans l'espace de travail)" if partial else " : EPCI entier)"
        return name

    epci_places = _places("epci", released_epci)
    names = {f"epci:{p.code}": epci_name(p.code) for p in epci_places}
    names[f"departement:{dep.code}"] = f"Ensemble du département {display_name(dep)}"
    places = [*epci_places, dep]

    def table(figure_id: str, title: str, indicators: list[Indicator], where: list[geo.Territory],
              first: str = "EPCI", note: str = "") -> FigureSpec:
        data = indicator_frame(source, [i for i in indicators if i.variable in codebook], where)
        return FigureSpec(figure_id, title, data, kind="table", note=note,
                          table=side_by_side(data, first, names) if len(data) else None)

    people = table("publics", "Structures et personnes touchées par EPCI",
                   [Indicator(PEOPLE, "respondents", label="Structures répondantes"),
                    Indicator(PEOPLE, "sum", label="Personnes touchées (total)"),
                    Indicator(PEOPLE, "mean", label="Personnes touchées (moyenne par structure)")], places)
    structures = _structures(people.data)
    count_rows = [{"EPCI": names.get(f"epci:{p.code}", p.name),
                   "Structures": format_number(structures.get(f"epci:{p.code}") or 0)} for p in epci_places]
    counts = FigureSpec("structures_epci", "Structures par EPCI", people.data[people.data["statistic"] == "sum"],
                        kind="table", table=pd.DataFrame(count_rows))
    actions = [q.id for q in codebook.in_section("actions") if q.type.value == "yes_no"]
    themes = table("actions", "Actions par thème : part des structures qui en mènent",
                   [Indicator(a, "share", "oui", label=codebook.question(a).label) for a in actions], places)
    staff = table("ressources_humaines", "Ressources humaines (totaux)",
                  [Indicator(v, "sum") for v in HUMAN_RESOURCES], places)
    money = table("finances", "Finances (totaux, en euros)", [Indicator(v, "sum") for v in FINANCES], places)

    commune_places = _places("commune", tables.communes)
    for place in commune_places:
        names[f"commune:{place.code}"] = place.name
    communes_fig = table("communes", "Communes comptant au moins trois structures",
                         [Indicator(PEOPLE, "sum", label="Personnes touchées"),
                          Indicator("salaries", "sum", label="Salariés"),
                          Indicator("budget_total", "sum", label="Budget total")],
                         commune_places, first="Commune")

    hosting, qpv_note = qpv_communes(departement, qpv_reference)
    directory = directory_by_commune(workspace, year, departement, user)
    qpv_rows = qpv_coverage(directory, hosting)
    covered = int((qpv_rows["Couverte"] == "oui").sum())
    qpv_data = directory[directory["commune"].isin(hosting["code"])].assign(
        statistic="structures", value=lambda f: f["structures"].astype(float), status="V", n=lambda f: f["structures"])
    qpv_fig = FigureSpec("qpv", "Couverture des communes accueillant un quartier prioritaire", qpv_data,
                         kind="table", note=qpv_note + " Nombre de structures : annuaire public des structures.",
                         table=qpv_rows)

    straddling = [e for e in released_epci if len(spans.get(e, [])) > 1]
    report = Report(
        kind="infra_departemental",
        title=f"Analyse infra-départementale — {display_name(dep)} — {year_label(year)}",
        audience=RESTRICTED,
        parameters={"departement": departement, "year": year},
        intro=(
            f"Les {format_number(len(released_epci))} EPCI du département {display_name(dep)}"
            + (f" (dont {format_number(len(straddling))} à cheval sur un autre département, présentés en entier)"
               if straddling and not partial else "")
            + f" et ses {format_number(len(commune_places))} communes comptant assez de structures pour être "
            "présentées, côte à côte avec l'ensemble du département. Document réservé au préparateur désigné et "
            "aux correspondants SENACS du département (charte 3.1 et 3.2) : ne pas le diffuser au comité. "
            "Les chiffres des EPCI et des communes sont protégés par le secret statistique conjointement avec "
            "les tableaux publiés du département et de la région : les combiner ne révèle aucune case masquée "
            f"({SUPPRESSED_MARK})."
        ),
        extra={"epci": released_epci, "straddling_epci": straddling, "communes": tables.communes,
               "qpv_communes": hosting["code"].tolist(), "qpv_communes_covered": covered,
               "qpv_communes_uncovered": [c for c, flag in zip(hosting["code"], qpv_rows["Couverte"], strict=True)
                                          if flag == "non"],
               "authorised_bundle": tables.manifest.get("bundle_hash")},
    )
    report.sections = [
        Section("Structures par EPCI", "Nombre de structures (donnée publique de l'annuaire) et publics touchés.",
                [counts, people]),
        Section("Actions par thème", "", [themes]),
        Section("Ressources humaines", "", [staff]),
        Section("Finances", "", [money]),
        Section("Communes", "Seules les communes comptant au moins trois structures sont présentées ; les autres "
                "restent comprises dans leur EPCI." if commune_places else
                "Aucune commune du département ne compte assez de structures pour être présentée seule.",
                [communes_fig] if commune_places else []),
        Section("Quartiers prioritaires (QPV)",
                f"{format_number(covered)} commune(s) sur {format_number(len(hosting))} accueillant un quartier "
                "prioritaire ont au moins une structure.", [qpv_fig]),
    ]
    return report


def directory_by_commune(workspace: Workspace, year: int, departement: str, user: str | None = None) -> pd.DataFrame:
    """Structures per commune of ``departement`` from the public identity data (the directory of
    structures published on senacs.fr): ``commune, structures, in_qpv``. Read through the store,
    access-checked and logged; no answer to the questionnaire is read."""
    from senacs_workbench.restricted.publication.publish import parent_commune_codes
    from senacs_workbench.restricted.store import RawDataStore

    store = RawDataStore(workspace, user)
    identity = store.wide(year, geo.territory("departement", departement), variables=["qpv"])
    commune = identity["code_commune"].astype("string").map(parent_commune_codes())
    frame = pd.DataFrame({"commune": commune, "in_qpv": identity["qpv"].eq(QPV_CATEGORY)})
    return frame.groupby("commune").agg(structures=("in_qpv", "size"), in_qpv=("in_qpv", "sum")).reset_index()


def qpv_coverage(directory: pd.DataFrame, hosting: pd.DataFrame) -> pd.DataFrame:
    """Per QPV-hosting commune: its structures and those working in a QPV (public identity data)."""
    counts = directory.set_index("commune")
    rows = []
    for code, name in zip(hosting["code"], hosting["nom"], strict=True):
        structures = int(counts["structures"].get(code, 0))
        in_qpv = int(counts["in_qpv"].get(code, 0))
        rows.append({"Commune": name, "Structures dans la commune": format_number(structures),
                     "dont intervenant en QPV": format_number(in_qpv),
                     "Couverte": "oui" if structures else "non"})
    return pd.DataFrame(rows, columns=["Commune", "Structures dans la commune", "dont intervenant en QPV", "Couverte"])


def run(workspace_dir: Path | str, departement: str, year: int, output_dir: Path | str = ".",
        qpv_reference: str = "") -> Report:
    """Build the report and write its key figures into ``output_dir`` (what tests compare)."""
    report = build(workspace_dir, departement, year, qpv_reference or None)
    write_key_figures(report, output_dir)
    return report
