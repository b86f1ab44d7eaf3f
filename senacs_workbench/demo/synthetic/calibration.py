"""Every assumption of the synthetic generator, in one place.

The figures come from ``reference/senacs-facts.md`` (public SENACS reports) where they exist;
the others are stated assumptions. ``docs/synthetic-data.md`` explains each of them.
Campaign year = data year + 1.
"""

from __future__ import annotations

# ------------------------------------------------------------------ counts and dynamics
BASE_YEAR = 2019
"""First campaign year of the calibration tables below."""

CS_COUNTS: dict[int, int] = {2019: 2285, 2020: 2295, 2021: 2310, 2022: 2335, 2023: 2360, 2024: 2380, 2025: 2390}
"""Centres sociaux invited per campaign year (2 283 CS in data year 2018, 2 310 in 2020,
2 380 in 2023; interpolated in between). Years outside the table use the nearest end."""

EVS_COUNTS: dict[int, int] = {2019: 1300, 2020: 1350, 2021: 1400, 2022: 1480, 2023: 1580, 2024: 1690, 2025: 1700}
"""Espaces de vie sociale invited per campaign year (about 1 400 in data year 2020, 1 690 in 2023)."""

LEAVE_RATE: dict[str, float] = {"CS": 0.015, "EVS": 0.04}
"""Share of the previous year's structures that are no longer invited (closure, merger, lost agrément)."""

MIN_CS_PER_DEPARTEMENT = 2
"""Every département has at least this many CS at full scale (at least one structure at any scale)."""

DEPARTEMENT_EXPONENT = 0.9
"""Structures per département ∝ population ** exponent × a log-normal département effect."""

DEPARTEMENT_EFFECT_SIGMA = 0.3
DEPARTEMENT_WEIGHT_OVERRIDES: dict[str, float] = {"976": 0.25, "973": 0.5}
"""Mayotte and Guyane have far fewer structures than their population implies."""

# ------------------------------------------------------------------ identity
MODE_SHARES: dict[str, dict[str, float]] = {
    "CS": {"associatif": 0.68, "collectivite": 0.25, "caf": 0.05, "autre": 0.02},
    "EVS": {"associatif": 0.90, "collectivite": 0.07, "caf": 0.01, "autre": 0.02},
}
"""National management-mode shares (2013: 64 % associative, 28 % collectivité, 6 % CAF; 2017: 68-70 %)."""

MODE_CONCENTRATION: dict[str, float] = {"CS": 4.0, "EVS": 12.0}
"""Dirichlet concentration of a département's mode shares around the national ones: low = strong
variation between départements (Dordogne 2023: 44 % of CS associative)."""

URBAN_SHARE: dict[str, float] = {"CS": 0.78, "EVS": 0.45}
"""National share of structures in a mainly urban territory (CS: 78 % in 2020; EVS more rural)."""

URBAN_SLOPE = 5.0
"""Logit slope of P(urban) on the département's urbanity (share of inhabitants in communes of
10 000 inhabitants or more)."""

QPV_PROBS: dict[tuple[str, str], tuple[float, float, float]] = {
    # (qpv, proximite, non_concerne)
    ("CS", "urbain"): (0.48, 0.17, 0.35),
    ("CS", "rural"): (0.03, 0.07, 0.90),
    ("EVS", "urbain"): (0.30, 0.20, 0.50),
    ("EVS", "rural"): (0.01, 0.04, 0.95),
}
"""Nearly half of urban CS are in a QPV (2016)."""

TAILLE_PROBS: dict[str, tuple[float, float, float, float]] = {
    # (quartier, quartiers, commune, communes)
    "urbain": (0.40, 0.30, 0.20, 0.10),
    "rural": (0.02, 0.03, 0.35, 0.60),
}

IDENTITY_YES: dict[str, dict[str, float]] = {
    # P(oui) by type of structure
    "adherent_federation": {"CS": 0.70, "EVS": 0.35},
    "agrement_acf": {"CS": 0.80, "EVS": 0.0},
    "gens_du_voyage": {"CS": 0.02, "EVS": 0.03},
    "multi_sites": {"CS": 0.20, "EVS": 0.08},
    "itinerante": {"CS": 0.03, "EVS": 0.08},
}

AGREMENT_YEARS: dict[str, tuple[int, int]] = {"CS": (1970, 2016), "EVS": (1999, 2017)}
"""Range of the first agrément of the initial structures; entrants get theirs two years before
the campaign (they join the year after their first agrément)."""

# ------------------------------------------------------------------ response
RESPONSE_RATE_RANGE = (0.55, 0.78)
"""Each département's target response rate is drawn uniformly in this range (real rates: 50-80 %)."""

RESPONSE_PROPENSITY_SIGMA = 1.0
"""Persistent structure effect on the logit of answering (the same centres tend to answer)."""

ITEM_MISSING_RANGE = (0.02, 0.08)
"""Each non-required question is left empty by a respondent with a probability drawn in this range."""

COMMENT_ANSWER_RATE = 0.35
"""The free comment is optional: answered by about a third of respondents."""

# ------------------------------------------------------------------ provenance
PROVENANCE_ROW: dict[str, float] = {"centre": 0.85, "caf": 0.10, "federation": 0.05}
PROVENANCE_OVERRIDE_RATE = 0.10
"""Share of the rows entered by the centre whose finances and/or jobs sections were entered by the
CAF or the federation."""

# ------------------------------------------------------------------ size, jobs, finances
BUDGET_CS_MEAN = 615_000
BUDGET_CS_SIGMA = 0.5
BUDGET_CS_CLIP = (120_000, 3_000_000)
"""CS budgets: log-normal, mean about 615 k€ at the 2019 level, growing 1 % a year (633 817 € in 2013,
511 100 € per CS in Dordogne 2023)."""

BUDGET_EVS_MEDIAN = 55_000
BUDGET_EVS_SIGMA = 0.45
BUDGET_EVS_CLIP = (20_000, 150_000)
"""EVS budgets: log-normal, tens of thousands of euros up to about 150 k€."""

BUDGET_MULTIPLIERS: dict[str, float] = {"rural": 0.8, "qpv": 1.15, "collectivite": 0.9, "caf": 1.2}
"""Relative size of rural / QPV / collectivité-managed / CAF-managed structures (renormalised so
the national CS mean stays on target)."""

BUDGET_TREND = 0.01
"""Yearly nominal growth of budgets."""

BUDGET_AR = 0.6
BUDGET_SHOCK_SIGMA = 0.05
BUDGET_STEP_CLIP = (0.85, 1.18)
"""A survivor's budget follows a mean-reverting log process; one year's change stays within this ratio."""

BUDGET_PER_FTE_MEDIAN = 37_500
BUDGET_PER_FTE_SPREAD = 0.15
BUDGET_PER_FTE_CLIP = (32_000, 44_000)
BUDGET_PER_FTE_BAND = (30_000, 55_000)
"""Budget per FTE of clean rows (2013: 633 817 € for 17 FTE, i.e. about 37 k€ per FTE): the median
times exp(U(-spread, +spread)), a light-tailed spread so that robust (median/MAD) scores of clean
rows stay moderate; every clean row stays inside the band."""

ETP_RATIO_RANGE = (0.30, 0.85)
ETP_RATIO_BETA = (2.6, 3.4)
"""FTE / headcount: a Beta(2.6, 3.4) scaled to this range (mean about 0.54: 33 employees, 17 FTE)."""

SALARIES_STEP = 0.25
"""A survivor's headcount changes by at most ±25 % a year."""

FUNDING_SOURCES = (
    "financement_caf",
    "financement_communes",
    "financement_interco",
    "financement_departement",
    "financement_region",
    "financement_etat",
    "financement_usagers",
    "financement_autres",
)
FUNDING_SHARES: dict[str, tuple[float, ...]] = {
    #          caf   communes interco dept  region etat  usagers autres
    "CS": (0.25, 0.31, 0.12, 0.055, 0.015, 0.075, 0.08, 0.095),
    "EVS": (0.35, 0.28, 0.08, 0.05, 0.01, 0.06, 0.08, 0.09),
}
"""Funding split (not published; assumption: CAF 20-30 %, communes + intercommunality 35-50 %,
State 5-10 %, département 3-8 %, région 0-3 %, users 5-10 %, other 5-10 %)."""

FUNDING_CONCENTRATION = 40.0
FUNDING_ZERO_PROB: dict[str, float] = {"financement_interco": 0.35, "financement_region": 0.6}
"""Share of structures without any funding from the intercommunality / the région."""

RESULT_MEAN, RESULT_SIGMA = 0.003, 0.03
"""Result of the year = budget × N(mean, sigma): negative for about 45 % of structures."""

AGE_SHARES = (12.0, 17.0, 27.0, 44.0)
AGE_CONCENTRATION = 25.0
"""People reached by age band 0-10 / 11-25 / 25-59 / 60+ (Dordogne 2023), Dirichlet around it."""

BUDGET_PER_PERSON = {"CS": 950.0, "EVS": 300.0}
"""Budget per person reached (1.8 million people reached in 2020)."""

VOLUNTEERS_MEAN = {"CS": 30.0, "EVS": 15.0}
INHABITANTS_GOVERNANCE_MEAN = {"CS": 17.0, "EVS": 8.0}
ASSOCIATIONS_HOSTED_MEAN = {"CS": 11.0, "EVS": 4.0}

ACTION_YES: dict[str, tuple[float, float]] = {
    # P(oui) for (CS, EVS)
    "actions_petite_enfance": (0.55, 0.30),
    "actions_enfance": (0.80, 0.55),
    "actions_jeunesse": (0.75, 0.45),
    "actions_familles": (0.92, 0.80),
    "actions_seniors": (0.70, 0.55),
    "actions_numerique": (0.70, 0.45),
    "actions_acces_droits": (0.80, 0.50),
    "actions_insertion": (0.45, 0.20),
    "actions_langue_francaise": (0.55, 0.25),
    "actions_culture": (0.80, 0.65),
    "actions_sante": (0.60, 0.35),
    "actions_environnement": (0.50, 0.45),
    "actions_vacances": (0.75, 0.55),
    "actions_accompagnement_scolaire": (0.60, 0.30),
}
ACTION_REDRAW = 0.1
"""Each year, a structure re-draws each yes/no action answer with this probability."""

PARTICIPANT_ACTIONS = ("jeunesse", "familles", "seniors", "numerique", "accompagnement_scolaire")
"""X such that participants_X > 0 exactly when actions_X = oui (clean rows)."""

# ------------------------------------------------------------------ hard cases
DOMINANT_COUNT = 8
DOMINANT_FACTOR = (5.0, 10.0)
DOMINANT_BUDGET_CAP = 6_000_000
"""A few CS (8 at full scale) are 5-10 times the median of the other CS of their département."""

# ------------------------------------------------------------------ planted incoherences
PLANT_RATE = 0.03
"""Share of the respondents of a year that get exactly one planted incoherence."""

FAMILIES = (
    "etp_superieur_salaries",
    "tranches_age",
    "financements_budget",
    "benevoles_instances",
    "action_sans_participants",
    "evolution_annuelle",
    "valeur_aberrante",
)
