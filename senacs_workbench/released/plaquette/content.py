"""What a plaquette says: figures assembled from released bundles, through the published reader only.

Every figure is a :class:`Fig`: its value (``None`` when suppressed or absent), its status, its
n (the structures that contribute to it) and its display format. A suppressed figure is
written ``s`` and never carries its value: the reader gives NaN for it, and :class:`Fig`
drops whatever value it is given when the status is not ``V``. Charts take figures and plot
only the publishable ones (:func:`Chart.plotted`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook, Question, QuestionType, load_codebook
from senacs_workbench.core.errors import InputError, SenacsError
from senacs_workbench.core.formatting import NBSP, format_euros, format_number, format_percent
from senacs_workbench.released.plaquette.commune_map import CODE_COLUMNS, count_by_commune, insee_code
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK, PublishedReader
from senacs_workbench.released.sources import ReleasedSources, neighbours

Format = Literal["int", "dec", "ratio", "pct", "eur"]

SECTION_TITLES: dict[str, str] = {
    "edito": "Édito",
    "definitions": "Centre social, espace de vie sociale : de quoi parle-t-on ?",
    "map": "Carte des structures",
    "key": "Repères clés",
    "actions": "Projets et actions",
    "participation": "Participation des habitants et gouvernance",
    "partnerships": "Partenariats",
    "hr": "Ressources humaines",
    "finances": "Finances",
    "theme": "Thème de l'année",
    "structures": "Liste des structures",
    "method": "Note méthodologique",
    "national": "Fiche nationale",
}

PUBLICS = (
    ("personnes_touchees", "Personnes touchées"),
    ("enfants_accompagnes", "Enfants accompagnés"),
    ("jeunes_accompagnes", "Jeunes accompagnés"),
    ("familles_accompagnees", "Familles accompagnées"),
    ("personnes_informees_droits", "Personnes informées sur leurs droits"),
    ("personnes_accompagnees_droits", "Personnes accompagnées dans leurs démarches"),
)
AGE_BANDS = (("part_0_10", "0–10 ans"), ("part_11_25", "11–25 ans"), ("part_25_59", "25–59 ans"),
             ("part_60_plus", "60 ans et plus"))
PARTICIPANTS = (
    ("participants_jeunesse", "Participants aux actions jeunesse"),
    ("participants_familles", "Participants aux actions familles"),
    ("participants_seniors", "Participants aux actions seniors"),
    ("participants_numerique", "Participants aux actions numériques"),
    ("participants_accompagnement_scolaire", "Enfants en accompagnement à la scolarité"),
)
PARTICIPATION = (
    ("habitants_instances", "Habitants dans les instances"),
    ("initiatives_habitants", "Initiatives d'habitants soutenues"),
    ("evenements", "Événements organisés"),
    ("associations_accueillies", "Associations accueillies"),
    ("benevoles_instances", "Bénévoles dans les instances"),
)
HR_SUMS = (
    ("salaries", "Salariés", "int"),
    ("etp", "Équivalents temps plein", "dec"),
    ("salaries_contrats_aides", "Salariés en contrat aidé", "int"),
    ("benevoles_activite", "Bénévoles d'activité", "int"),
    ("jeunes_benevoles", "Jeunes bénévoles", "int"),
    ("heures_benevolat", "Heures de bénévolat", "int"),
)
FUNDERS = (
    ("financement_caf", "Caf"),
    ("financement_communes", "Communes"),
    ("financement_interco", "Intercommunalité"),
    ("financement_departement", "Département"),
    ("financement_region", "Région"),
    ("financement_etat", "État"),
    ("financement_usagers", "Usagers"),
    ("financement_autres", "Autres"),
)
MODE_LABELS = {"associatif": "Associatif", "collectivite": "Collectivité locale", "caf": "Gestion Caf",
               "autre": "Autre"}


@dataclass(frozen=True)
class Fig:
    """One published figure: ``s`` if suppressed, ``–`` if absent; never a suppressed value."""

    label: str
    value: float | None
    status: str
    n: int | None
    fmt: Format = "int"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.status != "V" or self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            object.__setattr__(self, "value", None)

    @property
    def suppressed(self) -> bool:
        return self.status not in ("V", "")

    @property
    def available(self) -> bool:
        return self.value is not None

    @property
    def text(self) -> str:
        if self.suppressed:
            return SUPPRESSED_MARK
        if self.value is None:
            return "–"
        return format_value(self.value, self.fmt, self.unit)

    @property
    def n_text(self) -> str:
        return "" if self.n is None else f"n{NBSP}={NBSP}{format_number(self.n)}"


def format_value(value: float, fmt: Format, unit: str = "") -> str:
    if fmt == "ratio":
        return format_percent(value, 0 if abs(value) >= 0.1 else 1)
    if fmt == "pct":
        return format_percent(value / 100, 0)
    if fmt == "eur":
        return format_euros(value)
    text = format_number(value, 1) if fmt == "dec" else format_number(value)
    return f"{text}{NBSP}{unit}" if unit else text


@dataclass(frozen=True)
class Chart:
    """A chart request: bars of figures (only publishable ones are plotted)."""

    key: str
    title: str
    figs: tuple[Fig, ...]
    kind: Literal["hbar", "vbar", "donut"] = "hbar"
    sort: bool = True
    size: Literal["full", "half"] = "full"

    @property
    def plotted(self) -> tuple[Fig, ...]:
        figs = tuple(f for f in self.figs if f.available)
        return tuple(sorted(figs, key=lambda f: f.value or 0.0, reverse=True)) if self.sort else figs

    @property
    def left_out(self) -> tuple[Fig, ...]:
        """Suppressed figures: listed as ``s`` under the chart, never drawn."""
        return tuple(f for f in self.figs if f.suppressed)

    @property
    def absent(self) -> bool:
        """No figure of the chart is in the bundle at all (the chart is left out of the page)."""
        return all(f.status == "" for f in self.figs)

    @property
    def n_text(self) -> str:
        ns = sorted({f.n for f in self.figs if f.n is not None})
        if not ns:
            return ""
        if len(ns) == 1:
            return f"n{NBSP}={NBSP}{format_number(ns[0])}"
        return f"n{NBSP}={NBSP}{format_number(ns[0])} à {format_number(ns[-1])}"


@dataclass
class Section:
    key: str
    title: str
    figs: dict[str, Any] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def has_suppressed(self) -> bool:
        def walk(item: Any) -> bool:
            if isinstance(item, Fig):
                return item.suppressed
            if isinstance(item, dict):
                return any(walk(v) for v in item.values())
            if isinstance(item, list | tuple):
                return any(walk(v) for v in item)
            return False

        return walk(self.figs) or any(walk(c.figs) for c in self.charts)


@dataclass(frozen=True)
class Edito:
    paragraphs: tuple[str, ...]
    caf_signatory: str
    federation_signatory: str
    placeholder: bool


@dataclass
class PlaquetteContent:
    territory: geo.Territory
    slug: str
    year: int
    data_year: int
    theme_label: str
    bundle_version: str
    edito: Edito
    sections: dict[str, Section]
    footnote: str = CONFIDENTIALITY_FOOTNOTE

    @property
    def title(self) -> str:
        return territory_title(self.territory)

    @property
    def has_suppressed(self) -> bool:
        return any(s.has_suppressed for s in self.sections.values())


def slug_of(territory: geo.Territory) -> str:
    """Folder name of a territory's plaquette: ``FR``, ``R75`` (région), ``24`` (département)."""
    if territory.level == "national":
        return geo.NATIONAL_CODE
    if territory.level == "region":
        return f"R{territory.code}"
    return territory.code


def parse(territory: str | geo.Territory) -> geo.Territory:
    found = geo.as_territory(territory)
    if found.level not in ("national", "region", "departement"):
        raise InputError(
            f"Une plaquette se construit pour la France, une région ou un département, pas pour {territory}."
        )
    return found


def territory_title(territory: geo.Territory) -> str:
    if territory.level == "national":
        return "France"
    if territory.level == "region":
        return f"Région {territory.name}"
    return f"{territory.name} ({territory.code})"


class Cells:
    """Lookup of one territory's released cells: (variable, statistic, answer, breakdown, category) → Fig."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._cells: dict[tuple[str, str, str, str, str], tuple[float | None, int | None, str]] = {}
        for row in frame.itertuples(index=False):
            value = None if pd.isna(row.value) else float(row.value)
            n = None if pd.isna(row.n) else int(row.n)
            self._cells[(row.variable, row.statistic, row.answer, row.breakdown, row.category)] = (value, n, row.status)

    def fig(self, label: str, variable: str, statistic: str, answer: str = "", *, fmt: Format = "int",
            unit: str = "", breakdown: str = "", category: str = "") -> Fig:
        found = self._cells.get((variable, statistic, answer, breakdown, category))
        if found is None:
            return Fig(label, None, "", None, fmt, unit)
        value, n, status = found
        return Fig(label, value, status, n, fmt, unit)

    def has(self, variable: str) -> bool:
        return any(key[0] == variable for key in self._cells)


class EditoError(SenacsError):
    """The committee's édito file cannot be read (message in French)."""


class AbsentTerritory(InputError):
    """The territory has no cell in the released bundle of the year: its plaquette would be all dashes."""


EDITO_PLACEHOLDER_HTML = '<div class="edito placeholder">'
"""How the HTML shows the placeholder édito (``plaquette.html.j2``): such a plaquette may not be approved."""


def _edito_meta(path: Path, text: str) -> dict[str, Any]:
    try:
        meta = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise EditoError(f"Édito illisible ({path}) : YAML invalide ({str(exc).splitlines()[0]}). Corrigez le "
                         "fichier puis reconstruisez la plaquette.") from None
    if not isinstance(meta, dict):
        raise EditoError(f"Édito illisible ({path}) : des champs « clé: valeur » sont attendus (texte, caf, "
                         "federation).")
    return meta


def read_edito(published_dir: Path, territory: geo.Territory) -> Edito:
    """The committee's édito: ``published/plaquette/edito/<slug>.md`` (YAML front matter) or ``.yaml``."""
    folder = Path(published_dir) / "plaquette" / "edito"
    slug = slug_of(territory)
    meta: dict[str, Any] = {}
    body = ""
    if (folder / f"{slug}.yaml").exists():
        meta = _edito_meta(folder / f"{slug}.yaml", (folder / f"{slug}.yaml").read_text(encoding="utf-8"))
        body = str(meta.get("texte") or meta.get("text") or "")
    elif (folder / f"{slug}.md").exists():
        raw = (folder / f"{slug}.md").read_text(encoding="utf-8")
        match = re.match(r"^---\s*\n(.*?)\n---\s*\n(.*)$", raw, re.S)
        if match:
            meta = _edito_meta(folder / f"{slug}.md", match.group(1))
            body = match.group(2)
        else:
            body = raw
    paragraphs = tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip())
    caf = str(meta.get("caf") or "La Caisse d'allocations familiales")
    federation = str(meta.get("federation") or meta.get("fédération") or "La fédération des centres sociaux")
    if paragraphs:
        return Edito(paragraphs, caf, federation, False)
    where = "du territoire" if territory.level == "national" else territory_title(territory)
    placeholder = (
        f"[Texte de l'édito à fournir par le comité de pilotage {where}, co-signé par la Caf et la fédération "
        f"des centres sociaux : déposer le fichier plaquette/edito/{slug}.md dans le dossier publié.]",
        "Chaque année, les centres sociaux et les espaces de vie sociale répondent à l'observatoire SENACS. "
        "Cette plaquette en présente les principaux résultats : qui sont ces structures, ce qu'elles font, "
        "avec qui et avec quels moyens.",
    )
    return Edito(placeholder, caf, federation, True)


def _question_figs(cells: Cells, question: Question) -> tuple[list[Fig], Chart | None]:
    """Generic figures of one question (the theme block): totals, means or shares per answer."""
    label = question.label
    if question.type is QuestionType.YES_NO:
        return [cells.fig(label, question.id, "share", "oui", fmt="ratio")], None
    if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        figs = tuple(cells.fig(c.label, question.id, "share", c.code, fmt="ratio") for c in question.categories)
        chart = Chart(f"theme_{question.id}", label, figs, "hbar",
                      sort=question.type is QuestionType.MULTIPLE_CHOICE, size="half")
        return [], chart
    if question.type is QuestionType.PERCENT:
        return [cells.fig(f"{label} (moyenne)", question.id, "mean", fmt="pct")], None
    fmt: Format = "eur" if question.type is QuestionType.AMOUNT else "int"
    return [
        cells.fig(f"{label} (total)", question.id, "sum", fmt=fmt),
        cells.fig(f"{label} (moyenne par structure)", question.id, "mean", fmt=fmt),
    ], None


def _structures_section(reader: PublishedReader, year: int, territory: geo.Territory, cells: Cells,
                        structures: pd.DataFrame | None) -> Section:
    section = Section("structures", SECTION_TITLES["structures"])
    if structures is not None:
        section.figs["list"] = public_structure_list(structures, territory)
        return section
    if territory.level == "departement":
        rows = []
        for code, label in MODE_LABELS.items():
            rows.append(cells.fig(label, "mode_gestion", "count", code))
        section.figs["by_mode"] = rows
        section.figs["by_type"] = [cells.fig("Centres sociaux", "type_structure", "count", "CS"),
                                   cells.fig("Espaces de vie sociale", "type_structure", "count", "EVS")]
        return section
    level = "region" if territory.level == "national" else "departement"
    frame = reader.table(year, level=level, variable=["type_structure", "personnes_touchees"], breakdown="")
    if territory.level == "region":
        frame = frame[frame.territory.isin(geo.departements_of(territory.code))]
    table = []
    for code in sorted(frame.territory.unique()):
        sub = Cells(frame[frame.territory == code])
        name = geo.territory(level, code).name  # type: ignore[arg-type]
        table.append({
            "code": code,
            "name": name,
            "structures": sub.fig("Structures", "type_structure", "structures"),
            "cs": sub.fig("CS", "type_structure", "count", "CS"),
            "evs": sub.fig("EVS", "type_structure", "count", "EVS"),
            "rate": sub.fig("Taux de réponse", "personnes_touchees", "response_rate", fmt="ratio"),
        })
    section.figs["by_territory"] = table
    section.figs["territory_level"] = "Région" if level == "region" else "Département"
    return section


PUBLIC_COLUMNS = {"nom": ("nom", "nom_structure", "name"), "commune": ("commune", "nom_commune"),
                  "type": ("type", "type_structure"), "mode": ("mode_gestion", "mode", "gestion")}
DIRECTORY = Path("plaquette") / "annuaire"
"""``published/plaquette/annuaire/<year>.csv``: the public directory of structures of a campaign (senacs.fr)."""
DIRECTORY_COLUMNS = frozenset({c for names in PUBLIC_COLUMNS.values() for c in names} | set(CODE_COLUMNS)
                              | {"departement", "code_departement"})


def read_public_directory(published_dir: Path | str, year: int) -> pd.DataFrame | None:
    """The public directory of structures of ``year``: the one released with the bundle (approved by
    the committee with it), else one deposited by hand in the published zone; None if there is none.

    Identity fields only (name, commune, département, type, management mode): any other column
    of the file is dropped unread.
    """
    released = PublishedReader(published_dir).directory(year)
    if released is not None:
        return released
    path = Path(published_dir) / DIRECTORY / f"{year}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False, encoding="utf-8-sig",
                       usecols=lambda column: str(column).strip() in DIRECTORY_COLUMNS)


def _commune_names() -> dict[str, str]:
    frame = geo.communes(with_arrondissements=True)
    return dict(zip(frame.code, frame.nom))


def public_structure_list(structures: pd.DataFrame, territory: geo.Territory) -> list[dict[str, str]]:
    """Rows of the public directory (name, commune, type, management mode), sorted; nothing else is read."""
    columns: dict[str, str | None] = {}
    for target, candidates in PUBLIC_COLUMNS.items():
        columns[target] = next((c for c in candidates if c in structures.columns), None)
    frame = structures
    if territory.level != "national":
        dep_col = next((c for c in ("departement", "code_departement") if c in frame.columns), None)
        if dep_col is not None:
            deps = [territory.code] if territory.level == "departement" else geo.departements_of(territory.code)
            frame = frame[frame[dep_col].astype(str).isin(deps)]
    type_labels = {"CS": "Centre social", "EVS": "Espace de vie sociale"}
    code_column = next((c for c in CODE_COLUMNS if c in frame.columns), None)
    names = _commune_names() if columns["commune"] is None and code_column is not None else {}
    rows = []
    for _, row in frame.iterrows():
        def get(key: str, row: pd.Series = row) -> str:
            column = columns[key]
            if key == "commune" and column is None and code_column is not None:
                return names.get(insee_code(row[code_column]), "")
            return "" if column is None or pd.isna(row[column]) else str(row[column])

        rows.append({"nom": get("nom"), "commune": get("commune"),
                     "type": type_labels.get(get("type"), get("type")),
                     "mode": MODE_LABELS.get(get("mode"), get("mode"))})
    return sorted(rows, key=lambda r: (r["commune"], r["nom"]))


def _comparison_rows(columns: list[Cells]) -> list[tuple[str, list[Fig]]]:
    spec: list[tuple[str, str, str, str, Format]] = [
        ("Structures", "type_structure", "structures", "", "int"),
        ("Part de centres sociaux", "type_structure", "share", "CS", "ratio"),
        ("Part à dominante urbaine", "type_territoire", "share", "urbain", "ratio"),
        ("Part en QPV", "qpv", "share", "qpv", "ratio"),
        ("Part en gestion associative", "mode_gestion", "share", "associatif", "ratio"),
        ("Personnes touchées par structure", "personnes_touchees", "mean", "", "int"),
        ("Habitants dans les instances par structure", "habitants_instances", "mean", "", "int"),
        ("Bénévoles d'activité par structure", "benevoles_activite", "mean", "", "int"),
        ("Salariés par structure", "salaries", "mean", "", "int"),
        ("ETP par structure", "etp", "mean", "", "dec"),
        ("Part des salariés en CDI", "part_cdi", "mean", "", "pct"),
        ("Budget moyen", "budget_total", "mean", "", "eur"),
        ("Budget médian", "budget_total", "median", "", "eur"),
        ("Partenariat avec la commune", "partenaire_commune", "share", "oui", "ratio"),
        ("Taux de réponse", "personnes_touchees", "response_rate", "", "ratio"),
    ]
    return [(label, [cells.fig(label, v, s, a, fmt=f) for cells in columns]) for label, v, s, a, f in spec]


def _comparison_columns(reader: PublishedReader, year: int, where: geo.Territory,
                        cells: Cells) -> tuple[list[Cells], list[tuple[str, str]]]:
    """The territory's own cells, then its région's (for a département) and the nation's, each from
    the one released bundle :class:`ReleasedSources` chooses (the bundles of the région and the nation
    added with ``senacs compare add`` in a département's workspace); with (header, source) per column."""
    released = ReleasedSources(reader, year)
    columns, headers = [cells], [(where.name if where.level != "national" else "France", "")]
    for place in neighbours(where):
        source = released.source_for(place)
        columns.append(Cells(released.cells(place)))
        label = "absent des publications reçues" if source is None else source.label
        headers.append((place.name if place.level != "national" else "France", label))
    return columns, headers


def assemble(published_dir: Path | str, territory: str | geo.Territory, year: int,
             structures: pd.DataFrame | None = None) -> PlaquetteContent:
    """Everything the plaquette of ``territory`` for campaign ``year`` shows, from released bundles only."""
    where = parse(territory)
    reader = PublishedReader(published_dir)
    bundle = reader.bundle(year)
    if structures is None and where.level == "departement":  # a national or région list would run to pages
        structures = read_public_directory(published_dir, year)
    codebook: Codebook = load_codebook(year)
    frame = reader.table(year, level=where.level, territory=where.code)
    if frame.empty:
        owner = territory_title(geo.parse_territory(str(bundle.manifest.get("territory", geo.NATIONAL_CODE))))
        raise AbsentTerritory(
            f"Plaquette refusée : {territory_title(where)} est absent du jeu de tableaux publié de la campagne "
            f"{year} (version {bundle.folder.name}, territoire {owner}) ; une plaquette sans chiffres n'est pas "
            "construite. Construisez-la dans l'espace de travail qui publie ce territoire.",
            territory=where.code,
        )
    cells = Cells(frame)
    sections: dict[str, Section] = {}

    def section(key: str) -> Section:
        sections[key] = Section(key, SECTION_TITLES[key])
        return sections[key]

    section("edito")
    section("definitions")
    geo_section = section("map")
    geo_section.figs["structures"] = cells.fig("Structures", "type_structure", "structures")
    if where.level == "departement" and structures is not None:
        geo_section.figs["communes"] = count_by_commune(structures, where.code)
    if where.level != "departement":
        level = "region" if where.level == "national" else "departement"
        counts = reader.table(year, level=level, variable="type_structure", statistic="structures", breakdown="")
        if where.level == "region":
            counts = counts[counts.territory.isin(geo.departements_of(where.code))]
        geo_section.figs["counts"] = {
            row.territory: Fig(geo.territory(level, row.territory).name, row.value, row.status,  # type: ignore[arg-type]
                               None if pd.isna(row.n) else int(row.n))
            for row in counts.itertuples(index=False)
        }

    key = section("key")
    key.figs["structures"] = cells.fig("structures", "type_structure", "structures")
    key.figs["cs"] = cells.fig("centres sociaux", "type_structure", "count", "CS")
    key.figs["evs"] = cells.fig("espaces de vie sociale", "type_structure", "count", "EVS")
    key.figs["urbain"] = cells.fig("à dominante urbaine", "type_territoire", "share", "urbain", fmt="ratio")
    key.figs["rural"] = cells.fig("à dominante rurale", "type_territoire", "share", "rural", fmt="ratio")
    key.figs["qpv"] = cells.fig("en quartier prioritaire (QPV)", "qpv", "share", "qpv", fmt="ratio")
    key.figs["qpv_near"] = cells.fig("à proximité d'un QPV", "qpv", "share", "proximite", fmt="ratio")
    key.figs["federation"] = cells.fig("adhérentes à la fédération", "adherent_federation", "share", "oui",
                                       fmt="ratio")
    key.figs["rate"] = cells.fig("taux de réponse", "personnes_touchees", "response_rate", fmt="ratio")
    key.charts.append(Chart("mode_gestion", "Mode de gestion",
                            tuple(cells.fig(label, "mode_gestion", "share", code, fmt="ratio")
                                  for code, label in MODE_LABELS.items()), "hbar", sort=False))

    actions = section("actions")
    actions.figs["publics"] = [cells.fig(label, var, "sum") for var, label in PUBLICS]
    actions.figs["reach_mean"] = cells.fig("personnes touchées en moyenne par structure", "personnes_touchees",
                                           "mean")
    actions.charts.append(Chart("ages", "Âge des personnes touchées (part moyenne)",
                                tuple(cells.fig(label, var, "mean", fmt="pct") for var, label in AGE_BANDS),
                                "vbar", sort=False, size="half"))
    themes = [q for q in codebook.in_section("actions") if q.type is QuestionType.YES_NO]
    actions.charts.append(Chart("themes", "Part des structures menant des actions, par thème",
                                tuple(cells.fig(q.label.removeprefix("Actions ").capitalize(), q.id, "share", "oui",
                                                fmt="ratio") for q in themes),
                                size="half"))
    actions.figs["participants"] = [cells.fig(label, var, "sum") for var, label in PARTICIPANTS]

    participation = section("participation")
    participation.figs["sums"] = [cells.fig(label, var, "sum") for var, label in PARTICIPATION]
    participation.figs["means"] = {var: cells.fig(label, var, "mean") for var, label in PARTICIPATION}
    participation.figs["participatif"] = cells.fig("des projets sociaux élaborés avec les habitants",
                                                   "projet_social_participatif", "share", "oui", fmt="ratio")
    participation.figs["federation"] = key.figs["federation"]

    partnerships = section("partnerships")
    partners = [q for q in codebook.in_section("partenariats") if q.id.startswith("partenaire_")]
    partnerships.charts.append(Chart("partners", "Part des structures ayant un partenariat avec…",
                                     tuple(cells.fig(q.label.replace("Partenariat avec ", "").capitalize(), q.id,
                                                     "share", "oui", fmt="ratio") for q in partners),
                                     size="half"))
    partnerships.figs["convention"] = cells.fig("ont une convention pluripartenariale", "convention_pluripartenariale",
                                                "share", "oui", fmt="ratio")
    partnerships.figs["partners_mean"] = cells.fig("partenaires en moyenne par structure", "nb_partenaires", "mean")

    hr = section("hr")
    hr.figs["sums"] = [cells.fig(label, var, "sum", fmt=fmt) for var, label, fmt in HR_SUMS]  # type: ignore[arg-type]
    hr.figs["salaries_mean"] = cells.fig("salariés en moyenne par structure", "salaries", "mean")
    hr.figs["etp_mean"] = cells.fig("ETP en moyenne par structure", "etp", "mean", fmt="dec")
    hr.figs["cdi"] = cells.fig("des salariés en CDI (moyenne des structures)", "part_cdi", "mean", fmt="pct")
    hr.figs["benevoles_mean"] = cells.fig("bénévoles d'activité en moyenne par structure", "benevoles_activite",
                                          "mean")
    hr.figs["by_type"] = [cells.fig(label, "salaries", "mean", breakdown="type_structure", category=code)
                          for code, label in (("CS", "Centre social"), ("EVS", "Espace de vie sociale"))]

    finances = section("finances")
    budget = cells.fig("Budget cumulé des structures répondantes", "budget_total", "sum", fmt="eur")
    finances.figs["budget"] = budget
    finances.figs["budget_mean"] = cells.fig("Budget moyen", "budget_total", "mean", fmt="eur")
    finances.figs["budget_median"] = cells.fig("Budget médian", "budget_total", "median", fmt="eur")
    finances.figs["by_type"] = [cells.fig(label, "budget_total", "mean", fmt="eur", breakdown="type_structure",
                                          category=code)
                                for code, label in (("CS", "Centre social"), ("EVS", "Espace de vie sociale"))]
    funders = [cells.fig(label, var, "sum", fmt="eur") for var, label in FUNDERS]
    finances.figs["funders"] = funders
    if all(f.available for f in funders):
        total = sum(f.value or 0.0 for f in funders)
        shares = tuple(Fig(f.label, (f.value or 0.0) / total, "V", f.n, "ratio") for f in funders)
        finances.charts.append(Chart("funders", "Répartition des financements déclarés", shares))
    else:
        # a share of a total that includes a suppressed amount would reveal it: amounts only
        finances.charts.append(Chart("funders", "Financements déclarés, par financeur", tuple(funders)))

    theme = section("theme")
    theme.title = f"Thème de l'année : {codebook.theme_label}"
    for question in codebook.theme_questions:
        if not cells.has(question.id):
            continue
        figs, chart = _question_figs(cells, question)
        theme.figs.setdefault("figs", []).extend(figs)
        if chart is not None:
            theme.charts.append(chart)

    sections["structures"] = _structures_section(reader, year, where, cells, structures)

    method = section("method")
    method.figs["structures"] = cells.fig("Structures invitées", "personnes_touchees", "structures")
    method.figs["respondents"] = cells.fig("Structures répondantes", "personnes_touchees", "respondents")
    method.figs["rate"] = cells.fig("Taux de réponse", "personnes_touchees", "response_rate", fmt="ratio")
    method.figs["suppressed"] = int((frame["status"] != "V").sum())
    method.figs["cells"] = len(frame)

    nat = section("national")
    columns, headers = _comparison_columns(reader, year, where, cells)
    nat.figs["rows"] = _comparison_rows(columns)
    nat.figs["columns"] = headers

    version = bundle.folder.name
    return PlaquetteContent(
        territory=where, slug=slug_of(where), year=year, data_year=year - 1, theme_label=codebook.theme_label,
        bundle_version=version, edito=read_edito(Path(published_dir), where), sections=sections,
    )
