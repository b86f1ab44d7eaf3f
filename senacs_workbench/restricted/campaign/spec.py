"""Campaign files (``parameters/*.yaml``): loading and validation, before anything runs.

A campaign file::

    name: campagne-2024          # optional; default: the file's name
    notebooks: ../notebooks      # optional; folder of the notebooks, relative to this file (default: the shipped ones)
    timeout: 600                 # optional; seconds allowed per cell
    max_duration: 3600           # optional; seconds allowed for a whole notebook run (wall clock)
    standalone: [restricted]     # optional; audiences whose HTML embeds plotly.js (centre: always)
    pdf: true                    # optional; a PDF beside each HTML (true, false or a list of audiences)
    runs:
      - notebook: territorial_analysis
        territories: [national, regions, departements]   # or codes: FR, region:75, departement:24, 24
        parameters: {year: 2024}                          # a list of values = one run per value
      - notebook: centre_report
        audience: centre
        parameters: {structure_id: [S24001, S24002], year: 2024}   # or all, or departement:24, region:75
    plaquettes:                  # optional; see senacs_workbench.restricted.campaign.plaquettes
      territories: [national, regions, departements]
      year: 2024

Every parameter name must be an identifier that the notebook declares (papermill writes names
into code verbatim); values are checked (territories against the reference, years against
the codebooks and the released bundles — or, for a restricted notebook that declares
``"reads": "store"`` in its ``senacs`` metadata (the coherence review reads the raw data as the
preparer), the imported data —, themes, structure ids, types of the defaults); the
runner's own parameters (``published_dir``, ``workspace_dir``, ``output_dir``,
``panel_structures``) cannot be set by a campaign file; a notebook is never rendered for an
audience wider than its own; the ``plaquettes`` section is checked by
:func:`senacs_workbench.restricted.campaign.plaquettes.parse_section` (a file may hold only that section).
``structure_id: all`` (every structure of the workspace's territory) or a territory
(``departement:24``, ``region:75``, ``FR``) gives one run per structure of that territory in the
run's ``year``: the ids are read from the store as the preparer (access-checked and logged, no
answer read). Each centre's output goes to its own folder, ``reports/centre/<id>/<campaign>/``.
All problems are reported together, in French.
"""

from __future__ import annotations

import ast
import itertools
import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import available_years
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.analysis.audience import (
    AUDIENCES,
    CENTRE,
    COMMITTEE,
    METADATA_KEY,
    RESTRICTED,
    declared_audience,
    may_publish_to,
)
from senacs_workbench.released.bundle_contract import RELEASED, released_versions
from senacs_workbench.restricted.campaign.plaquettes import SECTION as PLAQUETTES
from senacs_workbench.restricted.campaign.plaquettes import PlaquetteSpec, parse_section
from senacs_workbench.restricted.campaign.reviewed_code import refusals

RUNNER_PARAMETERS = ("published_dir", "workspace_dir", "output_dir", "panel_structures")
TERRITORY_SELECTORS = ("national", "regions", "departements")
YEAR_PARAMETERS = ("year", "first_year", "last_year")
READS_STORE = "store"
"""``metadata.senacs.reads`` of a restricted notebook that reads the raw data, not released bundles."""
DEFAULT_TIMEOUT = 600
DEFAULT_MAX_DURATION = 3600
"""Seconds a whole notebook run may take (wall clock, kernel start included) unless the campaign
file says otherwise (``max_duration``, for the file or per run)."""
ALWAYS_STANDALONE = frozenset({CENTRE})
"""Audiences whose reports always embed what they need: a centre's report is handed to it alone."""
ALL_STRUCTURES = "all"
"""``structure_id: all``: a centre report for every structure of the workspace's territory."""
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NOTEBOOK_LABELS = {
    "territorial_analysis": "Portrait territorial",
    "thematic_analysis": "Analyse thématique",
    "trends": "Évolutions",
    "centre_report": "Tableaux automatisés du centre",
}


class CampaignError(SenacsError):
    """The campaign file is invalid; nothing was run (French message listing every problem)."""

    def __init__(self, problems: list[str], path: Path | None = None) -> None:
        self.problems = problems
        where = f" ({path})" if path else ""
        super().__init__(
            f"Campagne refusée{where}, rien n'a été lancé :\n" + "\n".join(f"  - {p}" for p in problems),
            file=None if path is None else str(path),
        )


@dataclass(frozen=True)
class RunSpec:
    """One notebook execution of a campaign."""

    run_id: str
    notebook: str
    notebook_path: Path
    parameters: dict[str, Any]
    audience: str
    declared_audience: str
    folder: Path
    """Output folder, relative to the workspace's ``reports/``."""
    group: str
    """Index heading: the territory key (``FR``, ``region:75``…), or ``structure:<id>``."""
    timeout: int
    runner_parameters: tuple[str, ...]
    standalone: bool = False
    """The HTML embeds plotly.js and works alone (always for a centre's report)."""
    pdf: bool = False
    """A PDF of the report is printed beside its HTML."""
    max_duration: int = DEFAULT_MAX_DURATION
    """Seconds the whole run may take (wall clock); its kernel is stopped beyond."""

    @property
    def label(self) -> str:
        return NOTEBOOK_LABELS.get(self.notebook, self.notebook)


@dataclass
class Campaign:
    name: str
    path: Path
    notebooks_dir: Path
    runs: list[RunSpec] = field(default_factory=list)
    plaquettes: PlaquetteSpec | None = None


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-") or "x"


def restricted_folder(group: str) -> str:
    """The folder of a restricted output under ``reports/restricted/``: its territory's (``FR``,
    ``R75``, ``24``: one per département, read by that territory's preparer and correspondents)."""
    try:
        place = geo.parse_territory(group)
    except ValueError:
        return "autres"
    if place.level == "national":
        return geo.NATIONAL_CODE
    return f"R{place.code}" if place.level == "region" else _slug(place.code)


def expand_territories(selectors: Any) -> tuple[list[str], list[str]]:
    """``national``/``regions``/``departements`` or codes → territory keys; and the problems found."""
    items = selectors if isinstance(selectors, list) else [selectors]
    keys: list[str] = []
    problems: list[str] = []
    for item in items:
        text = str(item).strip()
        if text == "national":
            keys.append(geo.NATIONAL_CODE)
        elif text == "regions":
            keys += [f"region:{c}" for c in sorted(geo.regions()["code"])]
        elif text == "departements":
            keys += [f"departement:{c}" for c in sorted(geo.departements()["code"])]
        else:
            try:
                place = geo.parse_territory(text)
            except ValueError as exc:
                problems.append(f"territoire « {text} » : {exc}")
                continue
            if place.level not in ("national", "region", "departement"):
                problems.append(f"territoire « {text} » : seuls la France, les régions et les départements sont "
                                "analysés (les vues infra-départementales ne sont pas publiées).")
                continue
            keys.append(place.key)
    return list(dict.fromkeys(keys)), problems


def _declared(notebook_path: Path) -> dict[str, Any]:
    """Parameters the notebook declares, with their default values (literals)."""
    declared: dict[str, Any] = {}
    for name, info in papermill.inspect_notebook(str(notebook_path)).items():
        try:
            declared[name] = ast.literal_eval(str(info.get("default")))
        except (ValueError, SyntaxError):
            declared[name] = None
    return declared


def released_years(workspace: Workspace) -> set[int]:
    root = workspace.published / RELEASED
    years = set()
    if root.is_dir():
        years = {int(p.name) for p in root.iterdir() if p.name.isdigit() and released_versions(root, int(p.name))}
    comparisons = workspace.published / "comparisons"
    if comparisons.is_dir():
        for source in comparisons.iterdir():
            if source.is_dir():
                years |= {int(p.name) for p in source.iterdir() if p.name.isdigit() and released_versions(source,
                                                                                                          int(p.name))}
    return years


def imported_years(workspace: Workspace) -> set[int]:
    """Years with imported data in the workspace's store (metadata only: no answer is read)."""
    from senacs_workbench.restricted.store import store_summary

    return set(store_summary(workspace)["years"])


def _check_value(name: str, value: Any, default: Any, released: set[int], imported: set[int] | None = None
                 ) -> str | None:
    """The problem with one parameter value, or None; ``imported``: the notebook reads the store."""
    if name == "territory":
        return None  # expanded and checked separately
    if name in YEAR_PARAMETERS:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{name} = {value!r} : une année (nombre entier) est attendue."
        if value not in available_years():
            return f"{name} = {value} : aucun questionnaire pour cette campagne."
        if name == "year" and imported is not None:
            return None if value in imported else (f"year = {value} : aucune donnée importée pour cette "
                                                    "campagne (« senacs import »).")
        if name == "year" and value not in released:
            return (f"year = {value} : aucun jeu de tableaux validé par le comité pour cette campagne "
                    "(« senacs publish » puis « senacs release approve »).")
        return None
    if name == "theme":
        from senacs_workbench.released.analysis.thematic import THEMES

        return None if value in THEMES else f"theme = {value!r} : thème inconnu (thèmes : {', '.join(THEMES)})."
    if name == "departement":
        try:
            geo.territory("departement", str(value))
        except ValueError:
            return f"departement = {value!r} : département inconnu (code INSEE attendu, par exemple \"24\")."
        return None if isinstance(value, str) else f"departement = {value!r} : écrivez le code entre guillemets."
    if name == "structure_id":
        if is_structure_selector(value):
            try:
                structure_selector_territory(str(value), geo.territory("national", geo.NATIONAL_CODE))
            except ValueError as exc:
                return f"structure_id = {value!r} : {exc}"
            return None
        if not isinstance(value, str) or not SAFE_ID.match(value):
            return f"structure_id = {value!r} : identifiant de structure invalide (lettres, chiffres, _ . -)."
        return None
    if default is not None and not isinstance(value, type(default)) \
            and not (isinstance(default, float) and isinstance(value, int)):
        return f"{name} = {value!r} : une valeur de type {type(default).__name__} est attendue."
    if isinstance(value, bool) != isinstance(default, bool) and default is not None:
        return f"{name} = {value!r} : une valeur de type {type(default).__name__} est attendue."
    try:
        json.dumps(value)
    except TypeError:
        return f"{name} = {value!r} : valeur non prise en charge."
    return None


def is_structure_selector(value: Any) -> bool:
    """Whether a ``structure_id`` value names many structures: ``all`` (the workspace's territory),
    ``FR``/``national``, or a territory with its level (``region:75``, ``departement:24``, ``epci:…``)."""
    if not isinstance(value, str):
        return False
    return value == ALL_STRUCTURES or ":" in value or value.upper() in (geo.NATIONAL_CODE, "NATIONAL")


def structure_selector_territory(value: str, workspace_territory: geo.Territory) -> geo.Territory:
    """The territory whose structures a ``structure_id`` selector names (``ValueError`` if unknown)."""
    return workspace_territory if value == ALL_STRUCTURES else geo.parse_territory(value)


def _structures_of(workspace: Workspace, selector: str, year: Any, cache: dict[tuple[str, int], list[str]]
                   ) -> tuple[list[str], str | None]:
    """The structure ids a selector names in ``year`` (read from the store as the preparer, logged); or a problem."""
    from senacs_workbench.restricted.store import RawDataStore

    if not isinstance(year, int):
        return [], f"structure_id = {selector!r} : indiquez l'année (« year ») dont les structures sont prises."
    key = (selector, year)
    if key not in cache:
        place = structure_selector_territory(selector, workspace.territory)
        store = RawDataStore(workspace)
        if store.versions(year).empty:
            return [], (f"structure_id = {selector!r} : aucune donnée importée pour la campagne {year} "
                        "(« senacs import »), donc aucune structure.")
        try:
            cache[key] = store.structure_ids(year, place)
        except SenacsError as exc:
            return [], f"structure_id = {selector!r} : {exc}"
        if not cache[key]:
            return [], (f"structure_id = {selector!r} : aucune structure de {geo.LEVEL_LABELS[place.level]} "
                        f"{place.name} dans les données {year}.")
    return cache[key], None


def _audience_option(raw: dict[str, Any], key: str, default: frozenset[str]) -> tuple[frozenset[str], list[str]]:
    """A campaign-wide option given per audience: ``true``/``false`` (every audience / none) or a list of
    audiences; the audiences it applies to, and the problems found."""
    if key not in raw:
        return default, []
    value = raw[key]
    if isinstance(value, bool):
        return (frozenset(AUDIENCES) if value else frozenset()), []
    items = value if isinstance(value, list) else [value]
    unknown = [str(v) for v in items if v not in AUDIENCES]
    if unknown:
        return default, [f"{key} = {value!r} : true, false ou une liste de publics parmi {', '.join(AUDIENCES)} "
                         f"(inconnu : {', '.join(unknown)})."]
    return frozenset(str(v) for v in items), []


def _run_flag(entry: dict[str, Any], key: str, default: bool, where: str) -> tuple[bool, str | None]:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        return default, f"{where} : {key} = {value!r} : true ou false est attendu."
    return value, None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def load_campaign(workspace: Workspace, path: Path | str) -> Campaign:
    """Read and validate a campaign file; raise :class:`CampaignError` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise CampaignError([f"fichier de campagne introuvable : {path}"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CampaignError([f"YAML illisible : {exc}"], path) from None
    problems: list[str] = []
    runs = raw.get("runs", []) if isinstance(raw, dict) else None
    if not isinstance(runs, list) or not (runs or PLAQUETTES in raw):
        raise CampaignError([f"le fichier doit contenir une liste « runs » non vide ou une section « {PLAQUETTES} »."],
                            path)
    name = str(raw.get("name") or path.stem)
    if not SAFE_ID.match(name):
        problems.append(f"name = {name!r} : nom de campagne invalide (lettres, chiffres, _ . -).")
    # the shipped notebooks unless the file names a folder (relative to the file): a copied example still runs
    notebooks_dir = (path.parent / str(raw["notebooks"])).resolve() if raw.get("notebooks") else shipped("notebooks")
    default_timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    default_duration = raw.get("max_duration", DEFAULT_MAX_DURATION)
    standalone_audiences, option_problems = _audience_option(raw, "standalone", frozenset())
    pdf_audiences, pdf_problems = _audience_option(raw, "pdf", frozenset())
    problems += option_problems + pdf_problems
    released = released_years(workspace)
    campaign = Campaign(name, path.resolve(), notebooks_dir)
    seen: set[str] = set()
    structures: dict[tuple[str, int], list[str]] = {}
    if PLAQUETTES in raw:
        local = {y for y in released if released_versions(workspace.published / RELEASED, y)}  # not comparisons
        campaign.plaquettes, plaquette_problems = parse_section(raw[PLAQUETTES], local)
        problems += plaquette_problems
    for number, entry in enumerate(runs, start=1):
        where = f"run {number}"
        if not isinstance(entry, dict) or "notebook" not in entry:
            problems.append(f"{where} : « notebook » manquant.")
            continue
        unknown_keys = set(entry) - {"notebook", "audience", "territories", "parameters", "timeout", "standalone",
                                     "pdf", "max_duration"}
        if unknown_keys:
            problems.append(f"{where} : clé(s) inconnue(s) {', '.join(sorted(unknown_keys))}.")
        notebook = str(entry["notebook"])
        where = f"run {number} ({notebook})"
        if not SAFE_ID.match(notebook):
            problems.append(f"{where} : nom de carnet invalide.")
            continue
        notebook_path = notebooks_dir / f"{notebook}.ipynb"
        if not notebook_path.is_file():
            problems.append(f"{where} : carnet introuvable ({notebook_path}).")
            continue
        declared = _declared(notebook_path)
        metadata = nbformat.read(notebook_path, as_version=4).metadata
        own_audience = declared_audience(metadata)
        reads_store = (metadata.get(METADATA_KEY) or {}).get("reads") == READS_STORE
        if own_audience not in AUDIENCES:
            problems.append(f"{where} : le carnet ne déclare pas son public (metadata senacs.audience parmi "
                            f"{', '.join(AUDIENCES)}).")
            continue
        audience = str(entry.get("audience", own_audience))
        if audience not in AUDIENCES:
            problems.append(f"{where} : public « {audience} » inconnu ({', '.join(AUDIENCES)}).")
            continue
        if not may_publish_to(own_audience, audience):
            problems.append(f"{where} : refusé — un carnet destiné au public « {own_audience} » ne peut pas être "
                            f"diffusé au public « {audience} » (il contient des données plus détaillées).")
            continue
        review_problems = refusals(notebook_path, own_audience, audience, workspace)
        if review_problems:
            problems += [f"{where} : {p}" for p in review_problems]
            continue
        if reads_store and own_audience != RESTRICTED:
            problems.append(f"{where} : seul un carnet réservé (public « {RESTRICTED} ») lit les données brutes.")
            continue
        if own_audience == COMMITTEE and "workspace_dir" in declared:
            problems.append(f"{where} : un carnet du comité ne reçoit que le dossier des tableaux publiés, jamais "
                            "l'espace de travail (paramètre workspace_dir refusé).")
            continue
        parameters = entry.get("parameters") or {}
        if not isinstance(parameters, dict):
            problems.append(f"{where} : « parameters » doit être un dictionnaire.")
            continue
        entry_problems: list[str] = []
        for name_ in parameters:
            if not isinstance(name_, str) or not name_.isidentifier() or keyword.iskeyword(name_):
                entry_problems.append(f"{where} : nom de paramètre refusé {name_!r} (un identifiant Python est "
                                      "exigé : papermill écrit les noms tels quels dans le code).")
            elif name_ in RUNNER_PARAMETERS:
                entry_problems.append(f"{where} : le paramètre « {name_} » est fourni par la campagne elle-même.")
            elif name_ == "territory":
                entry_problems.append(f"{where} : indiquez les territoires avec « territories », pas « territory ».")
            elif name_ not in declared:
                entry_problems.append(f"{where} : le carnet ne déclare pas de paramètre « {name_} » (paramètres : "
                                      f"{', '.join(n for n in declared if n not in RUNNER_PARAMETERS)}).")
        values: dict[str, list[Any]] = {}
        if "territories" in entry:
            if "territory" not in declared:
                entry_problems.append(f"{where} : le carnet n'a pas de paramètre « territory ».")
            else:
                keys, territory_problems = expand_territories(entry["territories"])
                entry_problems += [f"{where} : {p}" for p in territory_problems]
                values["territory"] = keys
        if entry_problems:
            problems += entry_problems
            continue
        imported = imported_years(workspace) if reads_store else None
        for name_, value in parameters.items():
            values[name_] = _as_list(value)
            for item in values[name_]:
                problem = _check_value(name_, item, declared.get(name_), released, imported)
                if problem:
                    entry_problems.append(f"{where} : {problem}")
        if audience == CENTRE and "structure_id" not in values:
            entry_problems.append(f"{where} : un tableau de centre exige « structure_id ».")
        timeout = entry.get("timeout", default_timeout)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
            entry_problems.append(f"{where} : timeout = {timeout!r} : un nombre de secondes est attendu.")
        max_duration = entry.get("max_duration", default_duration)
        if not isinstance(max_duration, int) or isinstance(max_duration, bool) or max_duration <= 0:
            entry_problems.append(f"{where} : max_duration = {max_duration!r} : un nombre de secondes est attendu "
                                  "(durée maximale d'une exécution entière du carnet).")
        standalone, flag_problem = _run_flag(entry, "standalone", audience in standalone_audiences, where)
        pdf, pdf_problem = _run_flag(entry, "pdf", audience in pdf_audiences, where)
        entry_problems += [p for p in (flag_problem, pdf_problem) if p]
        if audience == CENTRE and entry.get("standalone") is False:
            entry_problems.append(f"{where} : standalone = false refusé : le tableau d'un centre lui est remis seul, "
                                  "il doit fonctionner sans autre fichier.")
        standalone = standalone or audience in ALWAYS_STANDALONE
        if entry_problems:
            problems += entry_problems
            continue
        order = [n for n in declared if n in values]
        combinations: list[dict[str, Any]] = []
        for combination in itertools.product(*(values[n] for n in order)):
            params = dict(zip(order, combination))
            if is_structure_selector(params.get("structure_id")):
                ids, problem = _structures_of(workspace, params["structure_id"], params.get("year"), structures)
                if problem and f"{where} : {problem}" not in problems:
                    problems.append(f"{where} : {problem}")
                combinations += [params | {"structure_id": structure_id} for structure_id in ids]
            else:
                combinations.append(params)
        for params in combinations:
            first, last = params.get("first_year"), params.get("last_year")
            if first is not None and last is not None and first > last:
                problems.append(f"{where} : first_year = {first} est après last_year = {last}.")
                continue
            if first is not None and last is not None and not released & set(range(first, last + 1)):
                problems.append(f"{where} : aucun jeu de tableaux validé entre {first} et {last}.")
                continue
            run_id = "__".join([notebook, *(_slug(params[n]) for n in order)])
            if run_id in seen:
                continue
            seen.add(run_id)
            group = (f"departement:{params['departement']}" if "departement" in params
                     else str(params.get("territory", "autres")))
            if audience == CENTRE:
                folder = Path(CENTRE) / _slug(params["structure_id"]) / name
                group = f"structure:{params['structure_id']}"
            elif audience == RESTRICTED:
                folder = Path(RESTRICTED) / restricted_folder(group) / name
            else:
                folder = Path(audience) / name
            campaign.runs.append(RunSpec(
                run_id=run_id, notebook=notebook, notebook_path=notebook_path, parameters=params,
                audience=audience, declared_audience=own_audience, folder=folder, group=group,
                timeout=int(timeout), runner_parameters=tuple(n for n in RUNNER_PARAMETERS if n in declared),
                standalone=standalone, pdf=pdf, max_duration=int(max_duration),
            ))
    if problems:
        raise CampaignError(problems, path)
    return campaign
