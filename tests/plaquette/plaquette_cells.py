"""Realistic released cells for the plaquette's tests and benchmark, until the real publication lands.

:func:`synthetic_cells` draws structures per département, answers per variable, and builds
the cell table (national, régions, départements; whole territory plus a ``type_structure``
breakdown for a few variables) with the statistics of the bundle contract, true values in
every cell and statuses ``V``/``A``/``B``/``D``: frequency (fewer than 3 respondents, counts of
1 or 2), dominance (some sums of quantitative questions) and secondary suppression (the complement of a
suppressed count). :func:`release_in_workspace` writes it as a draft and has the demo committee approve it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import QuestionType, load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure.rules import load_rules

COLUMNS = ["year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category", "value", "n",
           "status"]

# mean per structure (numeric questions), or share of "oui" (yes/no)
MEANS = {
    "population_zone": 14000, "personnes_touchees": 1300, "enfants_accompagnes": 140, "jeunes_accompagnes": 95,
    "familles_accompagnees": 120, "personnes_informees_droits": 260, "personnes_accompagnees_droits": 120,
    "participants_jeunesse": 110, "participants_familles": 150, "participants_seniors": 80,
    "participants_numerique": 60, "participants_accompagnement_scolaire": 45, "habitants_instances": 17,
    "initiatives_habitants": 8, "evenements": 25, "associations_accueillies": 11, "benevoles_activite": 30,
    "benevoles_instances": 12, "jeunes_benevoles": 5, "heures_benevolat": 3200, "nb_partenaires": 16,
    "salaries": 26, "etp": 13.5, "part_cdi": 68, "salaries_contrats_aides": 3, "budget_total": 480000,
    "financement_caf": 120000, "financement_communes": 150000, "financement_interco": 45000,
    "financement_departement": 25000, "financement_region": 8000, "financement_etat": 35000,
    "financement_usagers": 40000, "financement_autres": 30000, "resultat_exercice": 6000,
    "part_0_10": 14, "part_11_25": 18, "part_25_59": 33, "part_60_plus": 35, "ja_participants": 70,
    "ja_service_civique": 2, "ja_projets": 3, "ja_budget": 22000, "ja_part_instances": 9,
}
YES_SHARES = {
    "adherent_federation": 0.7, "actions_petite_enfance": 0.45, "actions_enfance": 0.85, "actions_jeunesse": 0.8,
    "actions_familles": 0.92, "actions_seniors": 0.7, "actions_numerique": 0.62, "actions_acces_droits": 0.75,
    "actions_insertion": 0.4, "actions_langue_francaise": 0.5, "actions_culture": 0.78, "actions_sante": 0.55,
    "actions_environnement": 0.48, "actions_vacances": 0.8, "actions_accompagnement_scolaire": 0.66,
    "projet_social_participatif": 0.82, "partenaire_commune": 0.92, "partenaire_interco": 0.55,
    "partenaire_departement": 0.6, "partenaire_equipements": 0.7, "partenaire_ecoles": 0.8,
    "partenaire_bailleurs": 0.45, "partenaire_associations": 0.9, "convention_pluripartenariale": 0.6,
    "ja_actions": 0.58, "ja_insertion": 0.42, "ja_logement": 0.2,
}
CHOICES = {
    "type_structure": {"CS": 0.6, "EVS": 0.4},
    "mode_gestion": {"associatif": 0.66, "collectivite": 0.27, "caf": 0.05, "autre": 0.02},
    "type_territoire": {"urbain": 0.72, "rural": 0.28},
    "qpv": {"qpv": 0.4, "proximite": 0.15, "non_concerne": 0.45},
    "ja_freins": {"mobilite": 0.5, "logement": 0.4, "emploi": 0.55, "sante": 0.2, "isolement": 0.35},
    "ja_evolution": {"baisse": 0.2, "stable": 0.5, "hausse": 0.3},
}
IDENTITY = ("type_structure", "mode_gestion", "type_territoire", "qpv", "adherent_federation")
BREAKDOWN_VARIABLES = ("budget_total", "salaries", "personnes_touchees")
MAGNITUDE_B_RATE = 0.08
RULES = load_rules()  # where dominance applies (status B is drawn there only)


def _variables(year: int) -> list[str]:
    codebook = load_codebook(year)
    wanted = set(MEANS) | set(YES_SHARES) | set(CHOICES)
    return [q.id for q in codebook.questions if q.id in wanted]


def synthetic_cells(year: int = 2024, seed: int = 7, departements: list[str] | None = None) -> pd.DataFrame:
    """The true-valued, status-flagged cell table of one year (every département unless given)."""
    rng = np.random.default_rng(seed)
    codebook = load_codebook(year)
    deps = geo.departements()
    if departements is not None:
        deps = deps[deps.code.isin(departements)]
    structures = {code: int(rng.choice([3, 4, 6, 9]) if rng.random() < 0.12 else rng.integers(10, 70))
                  for code in deps.code}
    answering = {code: max(2, round(n * rng.uniform(0.55, 0.9))) for code, n in structures.items()}
    rows: list[tuple] = []

    def emit(var: str, stat: str, answer: str, level: str, terr: str, value: float, n: int, status: str = "V",
             breakdown: str = "", category: str = "") -> None:
        rows.append((year, var, stat, answer, level, terr, breakdown, category, float(value), int(n), status))

    for var in _variables(year):
        question = codebook.question(var)
        # per-département raw aggregates: respondents, sum (numeric) or counts per answer (categorical)
        dep_resp: dict[str, int] = {}
        dep_sum: dict[str, float] = {}
        dep_counts: dict[str, dict[str, int]] = {}
        dep_top: dict[str, float] = {}
        for code in deps.code:
            n_struct = structures[code]
            resp = n_struct if var in IDENTITY else min(n_struct, max(0, answering[code] - int(rng.integers(0, 3))))
            dep_resp[code] = resp
            if question.type.is_numeric:
                mean = MEANS[var]
                if question.type is QuestionType.PERCENT:
                    values = np.clip(rng.normal(mean, mean * 0.3, resp), 0, 100)
                else:
                    values = rng.lognormal(np.log(mean) - 0.18, 0.6, resp)
                    if question.type is not QuestionType.DECIMAL:
                        values = np.round(values)
                dep_sum[code] = float(values.sum())
                dep_top[code] = float(values.max() / values.sum()) if resp and values.sum() > 0 else 0.0
            else:
                if question.type is QuestionType.YES_NO:
                    probs = {"oui": YES_SHARES[var], "non": 1 - YES_SHARES[var]}
                else:
                    probs = CHOICES[var]
                if question.type is QuestionType.MULTIPLE_CHOICE:
                    counts = {a: int(rng.binomial(resp, p)) for a, p in probs.items()}
                else:
                    drawn = rng.multinomial(resp, np.array(list(probs.values())) / sum(probs.values()))
                    counts = dict(zip(probs, (int(x) for x in drawn)))
                dep_counts[code] = counts
        groups: list[tuple[str, str, list[str]]] = [("national", geo.NATIONAL_CODE, list(deps.code))]
        for region in sorted(set(deps.region)):
            groups.append(("region", region, list(deps.code[deps.region == region])))
        groups += [("departement", code, [code]) for code in deps.code]
        for level, terr, members in groups:
            n_struct = sum(structures[c] for c in members)
            resp = sum(dep_resp[c] for c in members)
            small = resp < 3
            emit(var, "structures", "", level, terr, n_struct, n_struct)
            emit(var, "respondents", "", level, terr, resp, resp, "A" if small and level == "departement" else "V")
            emit(var, "response_rate", "", level, terr, resp / n_struct if n_struct else np.nan, n_struct)
            if question.type.is_numeric:
                total = sum(dep_sum[c] for c in members)
                status = "A" if small else "V"
                if (status == "V" and RULES.dominance_applies(question) and level == "departement"
                        and (dep_top[terr] > 0.85 or rng.random() < MAGNITUDE_B_RATE)):
                    status = "B"
                mean = total / resp if resp else np.nan
                if question.type is not QuestionType.PERCENT:
                    emit(var, "sum", "", level, terr, total, resp, status)
                emit(var, "mean", "", level, terr, mean, resp, status)
                for stat, factor in (("median", 0.86), ("q1", 0.55), ("q3", 1.3)):
                    emit(var, stat, "", level, terr, mean * factor, resp, "A" if resp < 5 else status)
                if var in BREAKDOWN_VARIABLES:
                    cs = 0.7 if question.type is not QuestionType.PERCENT else 0.5
                    for category, part, count_part in (("CS", cs, 0.6), ("EVS", 1 - cs, 0.4)):
                        k = round(resp * count_part)
                        sub = "A" if k < 3 else status
                        emit(var, "respondents", "", level, terr, k, k, sub, "type_structure", category)
                        emit(var, "sum", "", level, terr, total * part, k, sub, "type_structure", category)
                        emit(var, "mean", "", level, terr, total * part / k if k else np.nan, k, sub,
                             "type_structure", category)
            else:
                counts = {a: sum(dep_counts[c][a] for c in members) for a in dep_counts[members[0]]}
                statuses = {a: "A" if (0 < k < 3 or small) else "V" for a, k in counts.items()}
                if question.type is not QuestionType.MULTIPLE_CHOICE and list(statuses.values()).count("A") == 1:
                    # the complement would reveal the suppressed count: secondary suppression
                    other = max((a for a in counts if statuses[a] == "V"), key=lambda a: counts[a], default=None)
                    if other is not None and len(counts) == 2:
                        statuses[other] = "D"
                for answer, k in counts.items():
                    emit(var, "count", answer, level, terr, k, resp, statuses[answer])
                    emit(var, "share", answer, level, terr, k / resp if resp else np.nan, resp, statuses[answer])
    return pd.DataFrame(rows, columns=COLUMNS)


def plant(cells: pd.DataFrame, *, variable: str, statistic: str, territory: str, value: float,
          status: str = "B", level: str = "departement", answer: str = "") -> pd.DataFrame:
    """Give a (whole-territory) cell a distinctive true value and a suppressed status."""
    mask = ((cells.variable == variable) & (cells.statistic == statistic) & (cells.territory == territory)
            & (cells.level == level) & (cells.answer == answer) & (cells.breakdown == ""))
    assert mask.sum() == 1, (variable, statistic, territory)
    cells = cells.copy()
    cells.loc[mask, "value"] = value
    cells.loc[mask, "status"] = status
    return cells


def release_in_workspace(workspace: Workspace, cells: pd.DataFrame, year: int) -> None:
    """Write ``cells`` as the draft of ``year`` and have the demo national committee approve it."""
    from senacs_workbench.restricted.publication.approval import approve
    from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, write_draft

    description = BundleDescription(year, "FR", 1, "f" * 64, {"suppressed": int((cells.status != "V").sum())},
                                    True, "prep")
    write_draft(workspace.published, cells, description)
    approve(workspace, year, user="caf.demo")
    outcome = approve(workspace, year, user="federation.demo")
    assert outcome.released is not None
