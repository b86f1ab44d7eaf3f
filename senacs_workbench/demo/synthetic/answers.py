"""Clean answers of one campaign year, for every structure invited that year.

Values are typed: numeric questions are float arrays, yes/no and choice questions hold codes
(``oui``/``non``, category codes, multiple choices joined by ``|``), dates are ``datetime64[D]``,
text is ``str``. Missing answers are ``nan`` / ``None`` / ``NaT``. Every clean row satisfies the
invariants listed in ``docs/synthetic-data.md`` (see ``incoherences.py`` for their violations).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from senacs_workbench.core.codebook import NO, YES, Codebook, Question, QuestionType
from senacs_workbench.demo.synthetic import calibration as cal
from senacs_workbench.demo.synthetic.universe import Structures

Values = dict[str, np.ndarray]

AGE_COLUMNS = ("part_0_10", "part_11_25", "part_25_59", "part_60_plus")
PARTICIPANT_SHARE = {
    "jeunesse": 0.15,
    "familles": 0.25,
    "seniors": 0.12,
    "numerique": 0.08,
    "accompagnement_scolaire": 0.05,
}
GATES = {
    "num_postes_acces_libre": "num_espace_public_numerique",
    "pe_places": "pe_eaje",
    "pe_familles_laep": "pe_laep",
    "demo_montant_participatif": "demo_budget_participatif",
    "ja_participants": "ja_actions",
    "sen_benevoles": "sen_visites_domicile",
}
"""Theme questions that are 0 when the yes/no question they depend on is answered "non"."""

COMMENTS = (
    "Année marquée par le renouvellement du projet social.",
    "Forte hausse de la fréquentation des ateliers familles.",
    "Départ de la directrice en cours d'année, intérim assuré par le coordinateur.",
    "Les chiffres de fréquentation sont estimés à partir des feuilles d'émargement.",
    "Travaux dans les locaux : activités déplacées pendant trois mois.",
    "Nouveau partenariat avec la médiathèque et le collège du secteur.",
    "Difficultés de recrutement des animateurs jeunesse.",
    "Projet de rénovation des locaux en discussion avec la commune.",
    "Mise en place d'un accueil de loisirs le mercredi.",
    "Bénévoles très mobilisés sur l'aide aux devoirs.",
)


def yes_no(flags: np.ndarray) -> np.ndarray:
    return np.where(flags, YES, NO).astype(object)


def keep_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``mask``, ``None`` elsewhere (an object array)."""
    out = np.asarray(values, dtype=object).copy()
    out[~mask] = None
    return out


def stable_rng(seed: int, *parts: int | str) -> np.random.Generator:
    """A generator keyed by the seed and names (question ids…): independent of call order."""
    keys = [seed] + [p if isinstance(p, int) else zlib.crc32(p.encode("utf-8")) for p in parts]
    return np.random.default_rng(np.random.SeedSequence(keys))


def _round_lognormal(rng: np.random.Generator, mean: np.ndarray, sigma: float) -> np.ndarray:
    return np.round(mean * np.exp(rng.normal(-(sigma**2) / 2, sigma, len(mean))))


def _size_factor(budget: np.ndarray, is_cs: np.ndarray, power: float) -> np.ndarray:
    """(budget / median of its type) ** power, normalised to mean 1 within each type."""
    out = np.ones_like(budget)
    for rows in (is_cs, ~is_cs):
        if rows.any():
            f = (budget[rows] / np.median(budget[rows])) ** power
            out[rows] = f / f.mean()
    return out


def shares_to_tenths(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """Row shares -> percentages with one decimal summing to exactly 100.0 (largest remainder)."""
    raw = shares / shares.sum(axis=1, keepdims=True) * 1000
    whole = np.floor(raw)
    left = (1000 - whole.sum(axis=1)).astype(int)
    frac = raw - whole + rng.random(raw.shape) * 1e-9
    rank = np.argsort(np.argsort(-frac, axis=1, kind="stable"), axis=1, kind="stable")
    whole += rank < left[:, None]
    return whole / 10


def split_amount(total: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Integer amounts by source summing exactly to ``total`` (the remainder goes to the largest)."""
    amounts = np.floor(total[:, None] * shares)
    rest = total - amounts.sum(axis=1)
    amounts[np.arange(len(total)), np.argmax(shares, axis=1)] += rest
    return amounts


class YearBuilder:
    """Builds the clean values of one year for the structures ``members`` of ``universe``."""

    def __init__(
        self, universe: Structures, members: np.ndarray, year: int, codebook: Codebook, seed: int
    ) -> None:
        self.u = universe
        self.m = members
        self.n = len(members)
        self.year = year
        self.codebook = codebook
        self.seed = seed
        self.rng = stable_rng(seed, year, "answers")
        self.is_cs = universe["type"][members] == "CS"
        self.urban = universe["territoire"][members] == "urbain"
        self.values: Values = {}

    def col(self, name: str) -> np.ndarray:
        return self.u[name][self.m]

    # ---------------------------------------------------------------- identity (public, stable)
    def identity(self) -> None:
        v = self.values
        v["type_structure"] = self.col("type").copy()
        v["mode_gestion"] = self.col("mode").copy()
        v["type_territoire"] = self.col("territoire").copy()
        v["taille_territoire"] = self.col("taille").copy()
        v["qpv"] = self.col("qpv").copy()
        for q in cal.IDENTITY_YES:
            v[q] = yes_no(self.col(q))
        v["date_premier_agrement"] = self.col("agrement").copy()
        v["population_zone"] = self.col("population_zone").astype(float)

    # ---------------------------------------------------------------- size, jobs, finances
    def economy(self) -> None:
        rng, u, m, v = self.rng, self.u, self.m, self.values
        new = np.isnan(u["budget_prev"][m])
        x = np.where(
            new,
            u["x"][m],
            cal.BUDGET_AR * u["x"][m] + rng.normal(0.0, cal.BUDGET_SHOCK_SIGMA, self.n),
        )
        u["x"][m] = x
        budget = np.round(self.col("b0") * np.exp(x + cal.BUDGET_TREND * (self.year - cal.BASE_YEAR)))
        prev = u["budget_prev"][m]
        lo_step, hi_step = cal.BUDGET_STEP_CLIP
        budget = np.where(new, budget, np.clip(budget, np.ceil(prev * lo_step), np.floor(prev * hi_step)))
        bpf = (self.col("bpf0") * np.exp(rng.normal(0.0, 0.02, self.n))).clip(*cal.BUDGET_PER_FTE_CLIP)
        etp_target = budget / bpf
        r0 = self.col("r0")
        s_prev = u["salaries_prev"][m]
        s_new = np.maximum(1, np.ceil(etp_target / r0))
        s_cont = np.clip(
            np.round(etp_target / r0),
            np.ceil(s_prev * (1 - cal.SALARIES_STEP) - 1e-9),
            np.floor(s_prev * (1 + cal.SALARIES_STEP) + 1e-9),
        )
        salaries = np.where(new, s_new, np.maximum(s_cont, 1)).clip(1, 500)
        etp = np.minimum(np.round(etp_target, 2), salaries).clip(0.1, 500)
        # keep budget per FTE inside the band (etp capped by a headcount that may not grow)
        band_lo, band_hi = cal.BUDGET_PER_FTE_BAND
        budget = np.clip(budget, np.ceil(etp * band_lo * 1.02), np.floor(etp * band_hi * 0.98))
        v["budget_total"] = budget
        v["salaries"] = salaries
        v["etp"] = etp
        k_cdi = rng.binomial(salaries.astype(np.int64), np.where(self.is_cs, 0.76, 0.5))
        v["part_cdi"] = np.round(k_cdi / salaries * 100, 1)
        v["salaries_contrats_aides"] = rng.binomial(salaries.astype(np.int64), 0.06).astype(float).clip(0, 200)
        quali = np.where(
            self.is_cs[:, None], np.array([[0.2, 0.3, 0.4, 0.1]]), np.array([[0.35, 0.3, 0.15, 0.2]])
        )
        v["directeur_qualification"] = self._categorical(quali, ("niveau_5", "niveau_6", "niveau_7", "autre"))
        shares = self.col("funding_base") * np.exp(rng.normal(0.0, 0.05, (self.n, len(cal.FUNDING_SOURCES))))
        shares /= shares.sum(axis=1, keepdims=True)
        amounts = split_amount(budget, shares)
        for j, source in enumerate(cal.FUNDING_SOURCES):
            v[source] = amounts[:, j]
        v["resultat_exercice"] = np.round(budget * rng.normal(cal.RESULT_MEAN, cal.RESULT_SIGMA, self.n))

    # ---------------------------------------------------------------- publics and actions
    def publics(self) -> None:
        rng, v = self.rng, self.values
        per_person = np.where(self.is_cs, cal.BUDGET_PER_PERSON["CS"], cal.BUDGET_PER_PERSON["EVS"])
        people = _round_lognormal(rng, v["budget_total"] / per_person * self.col("people_eff"), 0.3)
        people = people.clip(10, 100_000)
        v["personnes_touchees"] = people
        noisy = rng.standard_gamma(self.col("age_base") * 300 + 0.5)  # Dirichlet around the base shares
        parts = shares_to_tenths(rng, noisy)
        for j, column in enumerate(AGE_COLUMNS):
            v[column] = parts[:, j]
        v["enfants_accompagnes"] = np.round(people * parts[:, 0] / 100 * rng.uniform(0.2, 0.6, self.n))
        v["jeunes_accompagnes"] = np.round(people * parts[:, 1] / 100 * rng.uniform(0.2, 0.6, self.n))
        v["familles_accompagnees"] = np.round(people * rng.uniform(0.05, 0.2, self.n))
        informed = np.round(people * rng.uniform(0.1, 0.45, self.n))
        v["personnes_informees_droits"] = informed
        v["personnes_accompagnees_droits"] = np.round(informed * rng.uniform(0.3, 0.6, self.n))

    def actions(self) -> None:
        rng, u, m, v = self.rng, self.u, self.m, self.values
        latent = u["action_u"][m]
        redraw = rng.random(latent.shape) < cal.ACTION_REDRAW
        latent = np.where(redraw, rng.random(latent.shape), latent)
        u["action_u"][m] = latent
        for j, (question, (p_cs, p_evs)) in enumerate(cal.ACTION_YES.items()):
            p = np.where(self.is_cs, p_cs, p_evs)
            if question in ("actions_langue_francaise", "actions_accompagnement_scolaire"):
                p = np.where(self.urban, np.minimum(p * 1.2, 0.95), p * 0.6)
            if question == "actions_numerique":
                p = np.minimum(p + 0.03 * (self.year - cal.BASE_YEAR), 0.95)
            v[question] = yes_no(latent[:, j] < p)
        people = v["personnes_touchees"]
        for x in cal.PARTICIPANT_ACTIONS:
            does = v[f"actions_{x}"] == YES
            maximum = 5000 if x == "accompagnement_scolaire" else 20000
            count = _round_lognormal(rng, people * PARTICIPANT_SHARE[x], 0.4).clip(3, maximum)
            v[f"participants_{x}"] = np.where(does, count, 0.0)

    # ---------------------------------------------------------------- participation, volunteers, partners
    def participation(self) -> None:
        rng, v = self.rng, self.values
        size = _size_factor(v["budget_total"], self.is_cs, 0.3)
        gov = self.col("governance_eff")

        def mean(table: dict[str, float]) -> np.ndarray:
            return np.where(self.is_cs, table["CS"], table["EVS"]) * size

        v["habitants_instances"] = _round_lognormal(rng, mean(cal.INHABITANTS_GOVERNANCE_MEAN) * gov, 0.3).clip(0, 500)
        v["initiatives_habitants"] = _round_lognormal(rng, np.where(self.is_cs, 8.0, 4.0) * size, 0.6).clip(0, 500)
        v["evenements"] = _round_lognormal(rng, np.where(self.is_cs, 15.0, 8.0) * size, 0.5).clip(0, 1000)
        v["associations_accueillies"] = _round_lognormal(rng, mean(cal.ASSOCIATIONS_HOSTED_MEAN), 0.6).clip(0, 300)
        v["projet_social_participatif"] = yes_no(rng.random(self.n) < 0.85)
        activity = _round_lognormal(rng, mean(cal.VOLUNTEERS_MEAN) * self.col("volunteer_eff"), 0.25)
        activity = activity.clip(0, 2000)
        v["benevoles_activite"] = activity
        assoc = self.col("mode") == "associatif"
        board_share = np.where(assoc, rng.uniform(0.2, 0.6, self.n), rng.uniform(0.0, 0.25, self.n))
        v["benevoles_instances"] = np.minimum(np.floor(activity * board_share), 300)
        v["jeunes_benevoles"] = np.floor(activity * rng.uniform(0.0, 0.25, self.n))
        v["heures_benevolat"] = np.round(activity * rng.uniform(40, 120, self.n)).clip(0, 200_000)

    def partners(self) -> None:
        rng, v = self.rng, self.values
        probs = {
            "partenaire_commune": 0.9,
            "partenaire_interco": 0.5,
            "partenaire_departement": 0.55,
            "partenaire_equipements": 0.8,
            "partenaire_ecoles": 0.75,
            "partenaire_bailleurs": np.where(self.urban, 0.75, 0.15),
            "partenaire_associations": 0.9,
            "convention_pluripartenariale": 0.6,
        }
        for question, p in probs.items():
            v[question] = yes_no(rng.random(self.n) < np.asarray(p))
        v["nb_partenaires"] = _round_lognormal(rng, np.where(self.is_cs, 15.0, 7.0), 0.5).clip(0, 300)

    def operations(self) -> None:
        rng, v = self.rng, self.values
        public = np.isin(self.col("mode"), ["collectivite", "caf"])
        locaux = np.where(public[:, None], np.array([[0.05, 0.9, 0.05]]), np.array([[0.15, 0.55, 0.30]]))
        v["statut_locaux"] = self._categorical(locaux, ("proprietaire", "mise_a_disposition", "locataire"))
        surface = np.where(
            self.is_cs,
            250 + v["budget_total"] / 1000 * rng.uniform(0.4, 1.0, self.n),
            60 + v["budget_total"] / 1000 * rng.uniform(0.5, 1.5, self.n),
        )
        v["surface_locaux"] = np.round(surface, 1).clip(0, 20_000)
        hours = np.where(self.is_cs, rng.uniform(30, 50, self.n), rng.uniform(10, 35, self.n))
        v["heures_ouverture"] = np.round(hours * 2) / 2
        v["ouverture_samedi"] = yes_no(rng.random(self.n) < np.where(self.is_cs, 0.35, 0.3))
        v["demarche_evaluation"] = yes_no(rng.random(self.n) < 0.4)
        v["outils_communication"] = self._multiple(
            np.array([0.7, 0.85, 0.5, 0.9]), ("site_web", "reseaux_sociaux", "lettre_info", "affichage")
        )
        comment = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), self.n)]
        v["commentaire"] = keep_where(rng.random(self.n) < cal.COMMENT_ANSWER_RATE, comment)

    # ---------------------------------------------------------------- generic (theme block, new questions)
    def generic(self, question: Question) -> np.ndarray:
        """Plausible values for a question without a dedicated model, from its type and range."""
        rng = stable_rng(self.seed, self.year, "generic", question.id)
        qtype, n = question.type, self.n
        lo = float(question.minimum) if isinstance(question.minimum, int | float) else 0.0
        hi = float(question.maximum) if isinstance(question.maximum, int | float) else 1000.0
        if qtype is QuestionType.YES_NO:
            return yes_no(rng.random(n) < rng.uniform(0.3, 0.8))
        if qtype is QuestionType.COUNT:
            size = _size_factor(self.values["budget_total"], self.is_cs, 0.5)
            return _round_lognormal(rng, np.full(n, max(hi * 0.05, 1.0)) * size, 0.7).clip(lo, hi)
        if qtype is QuestionType.AMOUNT:
            return np.round(self.values["budget_total"] * rng.uniform(0.01, 0.06, n)).clip(lo, hi)
        if qtype is QuestionType.PERCENT:
            return np.round(rng.beta(2.0, 3.0, n) * 100, 1).clip(lo, hi)
        if qtype is QuestionType.DECIMAL:
            return np.round(lo + rng.random(n) * (hi - lo) * 0.2, 1)
        if qtype is QuestionType.SINGLE_CHOICE:
            codes = tuple(c.code for c in question.categories)
            probs = rng.dirichlet(np.full(len(codes), 2.0))
            return self._categorical(np.tile(probs, (n, 1)), codes, rng)
        if qtype is QuestionType.MULTIPLE_CHOICE:
            codes = tuple(c.code for c in question.categories)
            return self._multiple(rng.uniform(0.25, 0.75, len(codes)), codes, rng)
        if qtype is QuestionType.DATE:
            start = np.datetime64(f"{self.year - 1}-01-01", "D")
            return start + rng.integers(0, 365, n).astype("timedelta64[D]")
        comment = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), n)]
        return keep_where(rng.random(n) < cal.COMMENT_ANSWER_RATE, comment)

    # ---------------------------------------------------------------- helpers
    def _categorical(
        self, probs: np.ndarray, codes: tuple[str, ...], rng: np.random.Generator | None = None
    ) -> np.ndarray:
        rng = rng or self.rng
        cum = np.cumsum(probs, axis=1)
        cum[:, -1] = 1.0
        return np.asarray(codes, dtype=object)[(rng.random(len(probs))[:, None] > cum).sum(axis=1)]

    def _multiple(
        self, probs: np.ndarray, codes: tuple[str, ...], rng: np.random.Generator | None = None
    ) -> np.ndarray:
        rng = rng or self.rng
        chosen = rng.random((self.n, len(codes))) < probs
        none = ~chosen.any(axis=1)
        chosen[none, rng.integers(0, len(codes), int(none.sum()))] = True
        return np.array(
            ["|".join(c for c, keep in zip(codes, row, strict=True) if keep) for row in chosen], dtype=object
        )

    def build(self) -> Values:
        steps: tuple[Callable[[], None], ...] = (
            self.identity,
            self.economy,
            self.publics,
            self.actions,
            self.participation,
            self.partners,
            self.operations,
        )
        for step in steps:
            step()
        out: Values = {}
        for question in self.codebook.questions:
            if question.id in self.values:
                out[question.id] = self.values[question.id]
            else:
                out[question.id] = self.generic(question)
        for dependent, gate in GATES.items():
            if dependent in out and gate in out:
                out[dependent] = np.where(out[gate] == NO, 0.0, out[dependent])
        return out
