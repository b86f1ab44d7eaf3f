"""The national synthetic data generator (senacs_workbench.demo.synthetic)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from senacs_workbench.core import territories
from senacs_workbench.core.codebook import QuestionType, load_codebook
from senacs_workbench.demo.synthetic import FAMILIES, PLANT_RATE, SyntheticYear, generate, generate_frames
from senacs_workbench.demo.synthetic import calibration as cal

YEARS = list(range(2019, 2026))
AGES = ["part_0_10", "part_11_25", "part_25_59", "part_60_plus"]
FUNDING = list(cal.FUNDING_SOURCES)
ACTIONS = list(cal.PARTICIPANT_ACTIONS)


@pytest.fixture(scope="module")
def full() -> dict[int, SyntheticYear]:
    return generate_frames(YEARS, seed=2024, scale=1.0)


@pytest.fixture(scope="module")
def small() -> dict[int, SyntheticYear]:
    return generate_frames(YEARS, seed=7, scale=0.08)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("synth")
    return out, generate([2023, 2024], out, seed=11, scale=0.05)


def respondents(year: SyntheticYear) -> pd.DataFrame:
    return year.data[year.respondent.to_numpy()]


def planted_ids(year: SyntheticYear, family: str | None = None) -> set[str]:
    gt = year.ground_truth
    if family is not None:
        gt = gt[gt.family == family]
    return set(gt.id_structure)


# ------------------------------------------------------------------ a reference coherence check
def flags(year: SyntheticYear, previous: SyntheticYear | None) -> dict[str, set[str]]:
    """Structures violating each family's rule, computed from the typed data alone."""
    d = respondents(year).set_index("id_structure")
    out: dict[str, set[str]] = {}
    both = d.etp.notna()
    out["etp_superieur_salaries"] = set(d.index[both & (d.etp > d.salaries)])
    ages = d[AGES].dropna()
    out["tranches_age"] = set(ages.index[(ages.sum(axis=1) - 100).abs() > 0.05])
    fund = d[[*FUNDING, "budget_total"]].dropna()
    out["financements_budget"] = set(fund.index[fund[FUNDING].sum(axis=1) != fund.budget_total])
    vol = d[["benevoles_activite", "benevoles_instances"]].dropna()
    out["benevoles_instances"] = set(vol.index[vol.benevoles_instances > vol.benevoles_activite])
    bad: set[str] = set()
    for x in ACTIONS:
        pair = d[[f"actions_{x}", f"participants_{x}"]].dropna()
        yes = pair[f"actions_{x}"] == "oui"
        bad |= set(pair.index[(yes & (pair[f"participants_{x}"] == 0)) | (~yes & (pair[f"participants_{x}"] > 0))])
    out["action_sans_participants"] = bad
    evol: set[str] = set()
    if previous is not None:
        p = respondents(previous).set_index("id_structure")
        common = d.index.intersection(p.index)
        ratio_b = d.loc[common, "budget_total"] / p.loc[common, "budget_total"]
        ratio_s = d.loc[common, "salaries"] / p.loc[common, "salaries"]
        evol = set(common[(ratio_b >= 3) | (ratio_b <= 1 / 3) | (ratio_s <= 0.5)])
    out["evolution_annuelle"] = evol
    out["valeur_aberrante"] = set(robust_scores(year).loc[lambda z: z.abs() >= 6].index)
    return out


def robust_scores(year: SyntheticYear) -> pd.Series:
    """Robust z-score of log(budget per FTE) among respondents of the same département and type."""
    d = respondents(year).set_index("id_structure")
    d = d[d.etp.notna() & (d.etp > 0)]
    log_bpf = np.log(d.budget_total / d.etp)
    group = d.departement + "/" + d.type_structure
    median = log_bpf.groupby(group).transform("median")
    mad = (log_bpf - median).abs().groupby(group).transform("median")
    size = log_bpf.groupby(group).transform("size")
    z = (log_bpf - median) / (1.4826 * mad.clip(lower=0.03))
    return z[size >= 6]


def log_distance(year: SyntheticYear) -> pd.Series:
    """log(budget per FTE) minus its median among the same type of structure, nationally."""
    d = respondents(year).set_index("id_structure")
    d = d[d.etp.notna() & (d.etp > 0)]
    log_bpf = np.log(d.budget_total / d.etp)
    return log_bpf - log_bpf.groupby(d.type_structure).transform("median")


# ------------------------------------------------------------------ determinism
def test_same_seed_same_bytes(tmp_path: Path, written: tuple[Path, list[Path]]) -> None:
    _, first = written
    again = generate([2023, 2024], tmp_path, seed=11, scale=0.05)
    assert [p.name for p in again] == [p.name for p in first]
    assert [p.name for p in first] == [
        "senacs_2023.csv",
        "senacs_2023.xlsx",
        "ground_truth_2023.csv",
        "senacs_2024.csv",
        "senacs_2024.xlsx",
        "ground_truth_2024.csv",
    ]
    for a, b in zip(first, again, strict=True):
        assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest(), a.name


def test_bytes_do_not_depend_on_the_process(tmp_path: Path) -> None:
    """Same seed in two interpreters with different hash seeds: identical files."""
    script = (
        "import sys; from pathlib import Path; from senacs_workbench.demo.synthetic import generate; "
        "generate([2025], Path(sys.argv[1]), seed=5, scale=0.03)"
    )
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert len(digests[0]) == 3
    assert digests[0] == digests[1]


def test_other_seed_other_data() -> None:
    a = generate_frames([2024], seed=1, scale=0.05)[2024].data
    b = generate_frames([2024], seed=2, scale=0.05)[2024].data
    assert not a.equals(b)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="questionnaire"):
        generate_frames([1990], scale=0.05)
    with pytest.raises(ValueError, match="Échelle"):
        generate_frames([2024], scale=0)
    with pytest.raises(ValueError):
        generate_frames([], scale=0.05)


# ------------------------------------------------------------------ population
def test_counts_follow_reported_figures(full: dict[int, SyntheticYear]) -> None:
    for year, synthetic in full.items():
        kinds = synthetic.data.type_structure.value_counts()
        assert 2250 <= kinds["CS"] <= 2420, year
        assert 1280 <= kinds["EVS"] <= 1720, year
    assert full[2019].data.type_structure.eq("EVS").sum() < full[2025].data.type_structure.eq("EVS").sum()
    assert full[2024].data.type_structure.eq("CS").sum() == cal.CS_COUNTS[2024]


def test_every_departement_every_year(full: dict[int, SyntheticYear], small: dict[int, SyntheticYear]) -> None:
    codes = set(territories.departements().code)
    assert len(codes) == 101
    for frames in (full, small):
        for synthetic in frames.values():
            assert set(synthetic.data.departement) == codes


def test_small_and_large_departements(full: dict[int, SyntheticYear]) -> None:
    d = full[2024].data
    cs = d[d.type_structure == "CS"].groupby("departement").size()
    assert (cs < 10).sum() >= 5
    for small_dep in ("48", "23", "976"):
        assert cs[small_dep] < 10, small_dep
    assert cs["59"] > 40 and cs["75"] > 40
    # structures roughly follow the population
    pop = territories.communes().groupby("departement").population.sum()
    total = d.groupby("departement").size()
    assert np.corrcoef(np.log(pop[total.index]), np.log(total))[0, 1] > 0.8


def test_communes_belong_to_departement(full: dict[int, SyntheticYear]) -> None:
    communes = territories.communes().set_index("code")["departement"]
    d = full[2025].data
    assert d.code_commune.isin(communes.index).all()
    assert (communes[d.code_commune].to_numpy() == d.departement.to_numpy()).all()


def test_ids_names_stable_with_entrants_and_leavers(full: dict[int, SyntheticYear]) -> None:
    identity = ["nom_structure", "code_commune", "departement", "type_structure", "mode_gestion", "qpv"]
    for year in YEARS[1:]:
        before = full[year - 1].data.set_index("id_structure")
        after = full[year].data.set_index("id_structure")
        assert before.index.is_unique and after.index.is_unique
        assert all(re.fullmatch(r"S\d{6}", i) for i in after.index)
        stayed = before.index.intersection(after.index)
        left = len(before) - len(stayed)
        entered = after.index.difference(before.index)
        assert 0.005 * len(before) <= left <= 0.06 * len(before), year
        assert len(entered) > 0
        assert min(entered) > max(before.index)  # entrants get new ids
        pd.testing.assert_frame_equal(before.loc[stayed, identity], after.loc[stayed, identity])
        new_dates = pd.to_datetime(after.loc[entered, "date_premier_agrement"])
        assert (new_dates.dt.year == year - 2).all()
    names = full[2025].data.nom_structure
    assert names.str.match(r"^(Centre|EVS|Espace|Maison|Foyer|Café)").all()
    assert names.nunique() == len(names)


# ------------------------------------------------------------------ response and missingness
def test_response_rates(full: dict[int, SyntheticYear]) -> None:
    for year, synthetic in full.items():
        rate = synthetic.respondent.mean()
        assert 0.55 <= rate <= 0.78, (year, rate)
    d = full[2024].data.assign(r=full[2024].respondent.to_numpy())
    by_dep = d.groupby("departement").r.agg(["mean", "size"])
    big = by_dep[by_dep["size"] >= 40]["mean"]
    assert big.min() >= 0.4 and big.max() <= 0.9
    assert big.max() - big.min() > 0.15  # varies by département


def test_non_respondents_only_identity(full: dict[int, SyntheticYear]) -> None:
    synthetic = full[2022]
    cb = synthetic.codebook
    non = synthetic.data[~synthetic.respondent.to_numpy()]
    identity = [q.id for q in cb.in_section("identite")]
    assert non[identity].notna().all().all()
    others = [q.id for q in cb.questions if q.section != "identite"]
    assert non[others].isna().all().all()
    assert non.saisie_par__finances.isna().all() and non.saisie_par__emploi.isna().all()


def test_respondents_answer_most_questions(full: dict[int, SyntheticYear]) -> None:
    synthetic = full[2024]
    cb = synthetic.codebook
    r = respondents(synthetic)
    required = [q.id for q in cb.questions if q.required]
    assert {"budget_total", "salaries", "type_structure"} <= set(required)
    assert r[required].notna().all().all()
    rates = r[[q.id for q in cb.questions if not q.required and q.type is not QuestionType.TEXT]].isna().mean()
    identity = {q.id for q in cb.in_section("identite")}
    for question, rate in rates.items():
        if question in identity:
            assert rate == 0
        elif question == "etp":
            assert rate <= 0.1  # item non-response + budget-jump plants
        else:
            assert 0.005 <= rate <= 0.1, (question, rate)
    # blocks are answered together
    assert r[AGES].notna().sum(axis=1).isin([0, 4]).all()
    assert r[FUNDING].notna().sum(axis=1).isin([0, len(FUNDING)]).all()


def test_values_within_codebook(full: dict[int, SyntheticYear]) -> None:
    for synthetic in full.values():
        cb = synthetic.codebook
        d = synthetic.data
        assert list(d.columns[:7]) == [
            "id_structure",
            "nom_structure",
            "code_commune",
            "departement",
            "saisie_par",
            "saisie_par__finances",
            "saisie_par__emploi",
        ]
        assert list(d.columns[7:]) == list(cb.question_ids)
        for q in cb.questions:
            col = d[q.id].dropna()
            if q.type.is_numeric:
                values = col.astype(float)
                if q.minimum is not None:
                    assert (values >= float(q.minimum)).all(), q.id
                if q.maximum is not None:
                    assert (values <= float(q.maximum)).all(), q.id
                if q.type in (QuestionType.COUNT, QuestionType.AMOUNT):
                    assert (values == values.round()).all(), q.id
            elif q.type in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
                assert set(col) <= set(q.answer_codes), q.id
            elif q.type is QuestionType.MULTIPLE_CHOICE:
                codes = {c for v in col for c in v.split("|")}
                assert codes <= set(q.answer_codes), q.id
            elif q.type is QuestionType.DATE:
                assert (pd.to_datetime(col) >= pd.Timestamp(str(q.minimum))).all()
        assert set(d.saisie_par) == {"centre", "caf", "federation"}


# ------------------------------------------------------------------ calibration
def test_calibration(full: dict[int, SyntheticYear]) -> None:
    synthetic = full[2021]
    d = synthetic.data
    r = respondents(synthetic)
    clean = r[~r.id_structure.isin(planted_ids(synthetic)) & ~r.id_structure.isin(synthetic.dominant)]
    cs, evs = clean[clean.type_structure == "CS"], clean[clean.type_structure == "EVS"]
    assert 580_000 <= cs.budget_total.mean() <= 660_000
    assert cs.budget_total.mean() > cs.budget_total.median() * 1.05  # right-skewed
    assert 45_000 <= evs.budget_total.mean() <= 80_000 and evs.budget_total.max() <= 180_000
    assert 29 <= cs.salaries.mean() <= 37 and 15 <= cs.etp.mean() <= 19
    assert 0.45 <= cs.etp.sum() / cs.salaries.sum() <= 0.6
    assert 25 <= cs.benevoles_activite.mean() <= 36
    assert 14 <= cs.habitants_instances.mean() <= 20
    assert 9 <= cs.associations_accueillies.mean() <= 13
    modes = d[d.type_structure == "CS"].mode_gestion.value_counts(normalize=True)
    assert 0.62 <= modes["associatif"] <= 0.74 and 0.19 <= modes["collectivite"] <= 0.31
    assert 0.02 <= modes["caf"] <= 0.08
    assert d[d.type_structure == "EVS"].mode_gestion.eq("associatif").mean() >= 0.8
    urban = d.groupby("type_structure").type_territoire.apply(lambda s: s.eq("urbain").mean())
    assert 0.74 <= urban["CS"] <= 0.82 and urban["EVS"] < urban["CS"] - 0.15
    urban_cs = d[(d.type_structure == "CS") & (d.type_territoire == "urbain")]
    assert 0.4 <= urban_cs.qpv.eq("qpv").mean() <= 0.56
    # management mode varies strongly between départements
    by_dep = d[d.type_structure == "CS"].groupby("departement").mode_gestion.apply(lambda s: s.eq("associatif").mean())
    assert by_dep.quantile(0.9) - by_dep.quantile(0.1) > 0.3
    shares = cs[FUNDING].sum() / cs.budget_total.sum()
    assert 0.2 <= shares["financement_caf"] <= 0.3
    assert 0.35 <= shares["financement_communes"] + shares["financement_interco"] <= 0.5
    assert 0.05 <= shares["financement_etat"] <= 0.1 and 0.03 <= shares["financement_departement"] <= 0.08
    assert shares["financement_region"] <= 0.03
    ages = clean[AGES].mean()
    assert np.allclose(ages.to_numpy(), [12, 17, 27, 44], atol=2)
    assert 0.2 <= (clean.resultat_exercice < 0).mean() <= 0.6
    prov = d.saisie_par.value_counts(normalize=True)
    assert 0.8 <= prov["centre"] <= 0.9 and 0.06 <= prov["caf"] <= 0.14 and 0.02 <= prov["federation"] <= 0.08
    centre_rows = r[r.saisie_par == "centre"]
    overridden = centre_rows.saisie_par__finances.notna() | centre_rows.saisie_par__emploi.notna()
    assert 0.06 <= overridden.mean() <= 0.14
    assert set(centre_rows.saisie_par__finances.dropna()) == {"caf", "federation"}


def test_dominant_structures_and_tiny_cells(full: dict[int, SyntheticYear]) -> None:
    synthetic = full[2024]
    d = synthetic.data.set_index("id_structure")
    assert 5 <= len(synthetic.dominant) <= 10
    for sid in synthetic.dominant:
        row = d.loc[sid]
        assert synthetic.respondent.to_numpy()[synthetic.data.id_structure.eq(sid).to_numpy()].all()
        others = d[(d.departement == row.departement) & (d.type_structure == "CS")].drop(index=sid)
        assert row.budget_total >= 4 * others.budget_total.median()
        assert row.salaries >= 3 * others.salaries.median()
        assert cal.BUDGET_PER_FTE_BAND[0] <= row.budget_total / row.etp <= cal.BUDGET_PER_FTE_BAND[1]
    cells = d[d.type_structure == "CS"].groupby(["departement", "mode_gestion"]).size()
    assert (cells == 1).sum() >= 10
    assert (cells.xs("caf", level="mode_gestion") == 1).sum() >= 3


# ------------------------------------------------------------------ clean rows and planted incoherences
def test_clean_rows_trigger_nothing(full: dict[int, SyntheticYear]) -> None:
    for year, synthetic in full.items():
        found = flags(synthetic, full.get(year - 1))
        truth = synthetic.ground_truth
        for family in FAMILIES:
            expected = set(truth.id_structure[truth.family == family])
            assert found[family] == expected, (year, family, found[family] ^ expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ground_truth_matches_violations_other_seeds(seed: int) -> None:
    frames = generate_frames([2021, 2022, 2023], seed=seed, scale=0.15)
    for year, synthetic in frames.items():
        found = flags(synthetic, frames.get(year - 1))
        truth = synthetic.ground_truth
        for family in FAMILIES:
            assert found[family] == set(truth.id_structure[truth.family == family]), (seed, year, family)


def test_clean_rows_invariants(full: dict[int, SyntheticYear]) -> None:
    lo, hi = cal.BUDGET_PER_FTE_BAND
    for year, synthetic in full.items():
        r = respondents(synthetic)
        clean = r[~r.id_structure.isin(planted_ids(synthetic))]
        with_etp = clean[clean.etp.notna()]
        assert (with_etp.etp <= with_etp.salaries).all()
        bpf = with_etp.budget_total / with_etp.etp
        assert bpf.between(lo, hi).all(), (year, bpf.min(), bpf.max())
        ages = clean[AGES].dropna()
        assert ((ages.sum(axis=1) * 10).round() == 1000).all()
        fund = clean[[*FUNDING, "budget_total"]].dropna()
        assert (fund[FUNDING].sum(axis=1) == fund.budget_total).all()
        if year - 1 in full:
            prev = full[year - 1]
            p = respondents(prev).set_index("id_structure")
            p = p[~p.index.isin(planted_ids(prev))]
            c = clean.set_index("id_structure")
            common = c.index.intersection(p.index)
            assert len(common) > 1000
            ratio_b = c.loc[common, "budget_total"] / p.loc[common, "budget_total"]
            ratio_s = c.loc[common, "salaries"] / p.loc[common, "salaries"]
            assert ratio_b.between(0.8, 1.25).all() and ratio_s.between(0.75, 1.25).all()
        z = robust_scores(synthetic)
        clean_z = z[~z.index.isin(planted_ids(synthetic))]
        assert clean_z.abs().max() < 6, year
        assert (clean_z.abs() > 3.5).mean() < 0.01, year
        distance = log_distance(synthetic)
        assert distance[~distance.index.isin(planted_ids(synthetic))].abs().max() < 0.4


def test_planted_rate_and_families(full: dict[int, SyntheticYear], small: dict[int, SyntheticYear]) -> None:
    for frames in (full, small):
        for year, synthetic in frames.items():
            gt = synthetic.ground_truth
            n_resp = int(synthetic.respondent.sum())
            assert len(gt) == round(PLANT_RATE * n_resp), year
            assert gt.id_structure.is_unique  # one incoherence per planted structure
            assert set(gt.family) <= set(FAMILIES)
            ids = set(synthetic.data.id_structure[synthetic.respondent.to_numpy()])
            assert set(gt.id_structure) <= ids
            assert not set(gt.id_structure) & set(synthetic.dominant)
            cb = synthetic.codebook
            for variables in gt.variables:
                assert all(v in cb for v in variables.split("|"))
    first = full[2019].ground_truth
    assert "evolution_annuelle" not in set(first.family)
    for year in YEARS[1:]:
        counts = full[year].ground_truth.family.value_counts()
        assert set(counts.index) == set(FAMILIES) and counts.min() >= 8, year


def test_planted_values_are_strong(full: dict[int, SyntheticYear]) -> None:
    for year, synthetic in full.items():
        d = synthetic.data.set_index("id_structure")
        gt = synthetic.ground_truth
        ids = set(gt.id_structure[gt.family == "tranches_age"])
        assert ((d.loc[list(ids), AGES].sum(axis=1) - 100).abs() >= 15).all()
        ids = list(gt.id_structure[gt.family == "financements_budget"])
        gap = (d.loc[ids, FUNDING].sum(axis=1) - d.loc[ids, "budget_total"]).abs() / d.loc[ids, "budget_total"]
        assert (gap >= 0.15).all()
        z = robust_scores(synthetic)
        outliers = list(gt.id_structure[gt.family == "valeur_aberrante"])
        assert (z[outliers] > 10).all(), year
        assert (log_distance(synthetic)[outliers] > np.log(5)).all()
        # the ×10 typing error keeps the funding sum coherent
        assert (d.loc[outliers, FUNDING].sum(axis=1) == d.loc[outliers, "budget_total"]).all()
        evo = gt[gt.family == "evolution_annuelle"]
        if len(evo):
            assert evo.variables.isin(["budget_total", "salaries"]).all()
            assert evo.variables.nunique() == 2 or len(evo) < 4


def test_planted_structure_skips_next_campaign(full: dict[int, SyntheticYear]) -> None:
    for year in YEARS[:-1]:
        gt = full[year].ground_truth
        blocking_families = ["etp_superieur_salaries", "evolution_annuelle", "valeur_aberrante"]
        blocking = set(gt.id_structure[gt.family.isin(blocking_families)])
        nxt = full[year + 1]
        answered = set(nxt.data.id_structure[nxt.respondent.to_numpy()])
        assert not blocking & answered


def test_first_requested_year_has_no_evolution_plants() -> None:
    alone = generate_frames([2023], seed=5, scale=0.3)[2023]
    assert "evolution_annuelle" not in set(alone.ground_truth.family)
    assert len(alone.ground_truth) > 0


def test_small_scale_keeps_structure(small: dict[int, SyntheticYear]) -> None:
    for synthetic in small.values():
        n = len(synthetic.data)
        assert 0.06 * 3600 <= n <= 0.1 * 4200
        assert synthetic.data.groupby("departement").size().min() >= 1
        assert len(synthetic.dominant) >= 1


# ------------------------------------------------------------------ files
def test_csv_format(written: tuple[Path, list[Path]]) -> None:
    out, _paths = written
    raw = (out / "senacs_2024.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    cb = load_codebook(2024)
    assert header[:7] == [
        "id_structure",
        "nom_structure",
        "code_commune",
        "departement",
        "saisie_par",
        "saisie_par__finances",
        "saisie_par__emploi",
    ]
    assert header[7:] == list(cb.question_ids)
    assert all(len(row) == len(header) for row in body)
    col = {name: [row[i] for row in body] for i, name in enumerate(header)}
    assert all(re.fullmatch(r"S\d{6}", v) for v in col["id_structure"])
    assert all(re.fullmatch(r"\d[\dAB]\d{3}", v) for v in col["code_commune"])
    assert set(col["saisie_par"]) <= {"Centre", "Caf", "Fédération"}
    assert set(col["saisie_par__finances"]) <= {"", "Caf", "Fédération"}
    assert set(col["type_structure"]) == {"Centre social", "Espace de vie sociale"}
    assert "Associatif" in col["mode_gestion"]
    assert set(col["actions_familles"]) <= {"Oui", "Non", ""}
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", v) for v in col["date_premier_agrement"])
    assert all(re.fullmatch(r"-?\d+", v) for v in col["budget_total"] if v)
    assert all(re.fullmatch(r"\d+(,\d{1,2})?", v) for v in col["etp"] if v)
    assert any("," in v for v in col["etp"]) and any("," in v for v in col["part_0_10"])
    assert not any("%" in v or "." in v for v in col["part_cdi"])
    labels = {c.label for c in cb.question("outils_communication").categories}
    assert all(set(v.split("|")) <= labels for v in col["outils_communication"] if v)
    assert any("|" in v for v in col["outils_communication"])
    assert "" in col["budget_total"]  # non-respondents


def test_csv_round_trip(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    synthetic = generate_frames([2023, 2024], seed=11, scale=0.05)[2024]
    frame = pd.read_csv(out / "senacs_2024.csv", sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    expected = synthetic.export_frame()
    assert list(frame.columns) == list(expected.columns)
    assert frame.to_numpy().tolist() == expected.to_numpy().tolist()
    parsed = pd.to_numeric(frame.etp.str.replace(",", "."), errors="coerce")
    np.testing.assert_allclose(parsed.to_numpy(), synthetic.data.etp.to_numpy(), equal_nan=True)


def test_xlsx_content(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    xlsx = pd.read_excel(out / "senacs_2024.xlsx", sheet_name="Export SENACS", engine="openpyxl", dtype=object)
    cells = pd.read_csv(out / "senacs_2024.csv", sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(xlsx.columns) == list(cells.columns)
    assert len(xlsx) == len(cells)
    cb = load_codebook(2024)
    for column in cells.columns:
        got, want = xlsx[column], cells[column]
        if column in cb and cb.question(column).type.is_numeric:
            present = got.notna()
            assert (present.to_numpy() == (want != "").to_numpy()).all(), column
            numbers = pd.to_numeric(want[want != ""].str.replace(",", "."))
            np.testing.assert_allclose(got[present].astype(float).to_numpy(), numbers.to_numpy())
            assert all(isinstance(v, int | float) for v in got[present])
        else:
            assert got.fillna("").astype(str).tolist() == want.tolist(), column
    with zipfile.ZipFile(out / "senacs_2024.xlsx") as z:
        assert "2024-01-01" in z.read("docProps/core.xml").decode()


def test_ground_truth_file(written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    raw = (out / "ground_truth_2024.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert rows[0] == ["id_structure", "family", "variables", "description"]
    assert len(rows) > 1
    data = pd.read_csv(out / "senacs_2024.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert {r[0] for r in rows[1:]} <= set(data.id_structure)
    assert all(r[1] in FAMILIES and r[3] for r in rows[1:])


def test_full_scale_speed() -> None:
    import time

    start = time.perf_counter()
    frames = generate_frames(YEARS, seed=3, scale=1.0)
    assert time.perf_counter() - start < 20
    assert sum(len(f.data) for f in frames.values()) > 25_000
