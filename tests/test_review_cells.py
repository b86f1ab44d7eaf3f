"""Review of the cells of status R (issue 21): list, decide, publish on the decision, audit.

A small national year (24 respondents, all in Creuse) where one centre's result is a deficit
(−4 000 €): every sum of ``resultat_exercice`` holding it (and at least 3 respondents) is
status R. The reviewer lists them, decides; ``senacs publish`` applies the decisions and the
independent union audit accepts a published negative-sum cell only on a recorded « publier »
decision that it reads itself.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from workspace_support import national_workspace_at

from senacs_workbench.apps.cli import main
from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.core.workspace import Workspace, open_workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.release_audit import audit_union, read_review_publications
from senacs_workbench.restricted.coherence.corrections import correct_answer
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.restricted.publication.cell_review import review_list
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.publication.review_cells import cell_id
from senacs_workbench.restricted.publication.review_decisions import decisions_path, load_decisions
from senacs_workbench.restricted.store import RawDataStore
from senacs_workbench.trust import audit_log

YEAR = 2025
QUESTION = "resultat_exercice"
DEFICIT = -4000
NATIONAL_TOTAL = cell_id(YEAR, QUESTION, "", "national", "FR", "", "")
KEY = ["level", "territory", "breakdown", "category"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("review")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SENACS_USER", "prep")
        workspace = national_workspace_at(tmp / "ws")
        source = next(p for p in generate([YEAR], tmp / "incoming", seed=11, scale=0.02)
                      if p.name == f"senacs_{YEAR}.csv")
        frame = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame = frame[(frame["personnes_touchees"] != "") & (frame["salaries"] != "")].head(24).copy()
        communes = geo.communes()
        frame["code_commune"] = communes.loc[communes["departement"] == "23", "code"].iloc[0]
        frame["departement"] = "23"
        frame[QUESTION] = [str(DEFICIT if k == 0 else 1000 + 250 * k) for k in range(len(frame))]
        target = tmp / f"senacs_{YEAR}.csv"
        frame.to_csv(target, sep=";", index=False, encoding="utf-8-sig")
        import_file(workspace, target, YEAR)
    return workspace.root


@pytest.fixture
def workspace(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    shutil.copytree(base, tmp_path / "ws", symlinks=True)
    monkeypatch.setenv("SENACS_USER", "prep")
    return open_workspace(tmp_path / "ws")


def cli(workspace: Workspace, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--workspace", str(workspace.root)], env={"SENACS_USER": "prep"})
    return result.exit_code, result.output


def bundle_sums(workspace: Workspace) -> pd.DataFrame:
    bundle = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    return bundle[(bundle["variable"] == QUESTION) & (bundle["statistic"] == "sum")]


def national_total(workspace: Workspace) -> pd.Series:
    sums = bundle_sums(workspace)
    return sums[(sums["level"] == "national") & (sums["breakdown"] == "")].iloc[0]


def union_audit(workspace: Workspace, *, with_decisions: bool = True, table: pd.DataFrame | None = None) -> bool:
    store = RawDataStore(workspace, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[*BREAKDOWNS, QUESTION])
    bundle = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet") if table is None else table
    reviewed = read_review_publications(decisions_path(workspace.restricted, YEAR), YEAR) if with_decisions else None
    return audit_union([bundle], wide, load_codebook(YEAR), variables=[QUESTION], reviewed=reviewed).ok


def test_the_list_is_the_engines_status_r_cells_with_what_a_reviewer_needs(workspace: Workspace) -> None:
    cells = review_list(workspace, YEAR)
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    manifest = json.loads((draft_dir(workspace, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    reasons = pd.read_parquet(workspace.restricted / "publication" / str(YEAR)
                              / f"reasons-{manifest['bundle_hash']}.parquet")
    engine = reasons[(reasons["statistic"] == "sum") & (reasons["status"] == "R")]
    as_tuples = lambda frame: set(map(tuple, frame[KEY].astype(str).to_numpy().tolist()))  # noqa: E731
    assert len(engine) == 15 and as_tuples(cells) == as_tuples(engine)
    total = cells.set_index("id").loc[NATIONAL_TOTAL]
    positives = [1000 + 250 * k for k in range(1, 24)]
    assert (total["n"], total["sum"], total["positive"], total["negative"]) == (24, sum(positives) + DEFICIT,
                                                                                  sum(positives), DEFICIT)
    assert total["top_share"] == pytest.approx(max(positives) / (sum(positives) - DEFICIT))
    assert total["advice"] == "publiable" and total["decision"] == "" and total["territory_name"] == "France"
    assert list(review_list(workspace, YEAR)["id"]) == list(cells["id"])  # stable ids
    assert [e["action"] for e in audit_log.entries(workspace.audit_log_path)].count("review_cells") == 2


def test_cli_list_prints_the_table_and_writes_an_owner_only_sheet(workspace: Workspace, tmp_path: Path) -> None:
    sheet = tmp_path / "relecture.xlsx"
    code, output = cli(workspace, "secret", "list", "--year", str(YEAR), "--xlsx", str(sheet))
    assert code == 0, output
    assert NATIONAL_TOTAL in output and "15 cellule(s) à relire" in output and "en attente" in output
    assert sheet.exists() and (os.stat(sheet).st_mode & 0o777) == 0o600


def test_decide_publish_then_publish_shows_the_true_sum_and_the_union_audit_passes(workspace: Workspace) -> None:
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    assert national_total(workspace)["status"] == "D"
    code, output = cli(workspace, "secret", "decide", "--year", str(YEAR), "--selon-avis",
                       "--motif", "déficit d'un centre parmi 24, non identifiable")
    assert code == 0 and "15 décision(s) enregistrée(s)" in output, output
    outcome = publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    total = national_total(workspace)
    assert total["status"] == "V" and total["value"] == sum(1000 + 250 * k for k in range(1, 24)) + DEFICIT
    assert QUESTION not in outcome.audit.get("withheld_variables", [])
    assert QUESTION in outcome.audit["union_audited_variables"]
    assert union_audit(workspace)
    # the same bundle without the decisions: the audit rejects the published negative sums
    assert not union_audit(workspace, with_decisions=False)
    entry = [e for e in audit_log.entries(workspace.audit_log_path) if e["action"] == "review_decision"][-1]
    assert entry["user"] == "prep" and len(entry["details"]["decisions"]) == 15
    records = load_decisions(workspace.restricted, YEAR)
    assert {r["user"] for r in records} == {"prep"} and all("non identifiable" in r["reason"] for r in records)


def test_a_later_masquer_supersedes_publier_both_kept_and_the_cell_stays_hidden(workspace: Workspace) -> None:
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--selon-avis", "--motif", "avis suivi")
    code, output = cli(workspace, "secret", "decide", "--year", str(YEAR), "--cell", NATIONAL_TOTAL, "--masquer",
                       "--motif", "le comité préfère ne pas publier ce total")
    assert code == 0, output
    records = [r for r in load_decisions(workspace.restricted, YEAR) if r["id"] == NATIONAL_TOTAL]
    assert [r["decision"] for r in records] == ["publier", "masquer"]
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    assert national_total(workspace)["status"] == "D" and pd.isna(national_total(workspace)["value"])
    assert union_audit(workspace)
    _, listing = cli(workspace, "secret", "list", "--year", str(YEAR))
    assert "masquer (prep" in listing


def test_a_decision_on_a_cell_a_correction_changed_is_stale_not_applied_and_reported(workspace: Workspace) -> None:
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--selon-avis", "--motif", "avis suivi")
    store = RawDataStore(workspace, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[QUESTION])
    deficit = str(wide.loc[wide[QUESTION] == DEFICIT, "structure_id"].iloc[0])
    correct_answer(workspace, YEAR, deficit, QUESTION, "-3000", why="déficit corrigé par le centre")
    outcome = publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    assert national_total(workspace)["status"] == "D"
    assert "décision(s) de relecture ignorée(s)" in outcome.message_fr and NATIONAL_TOTAL in outcome.message_fr
    cells = review_list(workspace, YEAR).set_index("id")
    assert cells.loc[NATIONAL_TOTAL, "stale"] and cells.loc[NATIONAL_TOTAL, "sum"] == national_sum_after(-3000)
    _, listing = cli(workspace, "secret", "list", "--year", str(YEAR))
    assert "PÉRIMÉE" in listing and "sans décision en vigueur" in listing


def national_sum_after(deficit: int) -> int:
    return sum(1000 + 250 * k for k in range(1, 24)) + deficit


@pytest.mark.parametrize("args, message", [
    (["--cell", "r000000000000", "--publier", "--motif", "ok"], "Cellule(s) inconnue(s)"),
    (["--cell", NATIONAL_TOTAL, "--publier"], "motif"),
    (["--cell", NATIONAL_TOTAL, "--publier", "--motif", "   "], "motif"),
    (["--cell", NATIONAL_TOTAL, "--motif", "ok"], "--publier, --masquer ou --selon-avis"),
    (["--publier", "--selon-avis", "--motif", "ok"], "--publier, --masquer ou --selon-avis"),
])
def test_bad_input_is_refused_in_french_and_nothing_is_recorded(workspace: Workspace, args: list[str],
                                                                message: str) -> None:
    code, output = cli(workspace, "secret", "decide", "--year", str(YEAR), *args)
    assert code == 2 and "Erreur" in output and message in output, output
    assert "Traceback" not in output
    assert not decisions_path(workspace.restricted, YEAR).exists()
    assert "review_decision" not in {e["action"] for e in audit_log.entries(workspace.audit_log_path)}


def test_attack_a_negative_sum_published_without_a_decision_in_force_is_rejected_by_the_audit(
        workspace: Workspace, tmp_path: Path) -> None:
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--selon-avis", "--motif", "avis suivi")
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    table = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    assert national_total(workspace)["status"] == "V" and union_audit(workspace, table=table)
    path = decisions_path(workspace.restricted, YEAR)
    kept = path.rename(tmp_path / "decisions.json")
    assert not union_audit(workspace, table=table)  # the same release, no decision recorded
    kept.rename(path)
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--cell", NATIONAL_TOTAL, "--masquer", "--motif", "revu")
    assert not union_audit(workspace, table=table)  # the decision in force is « masquer »


def test_attack_a_publier_decision_does_not_lift_the_frequency_rule_nor_a_changed_value(
        workspace: Workspace) -> None:
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    table = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    path = decisions_path(workspace.restricted, YEAR)
    store = RawDataStore(workspace, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[*BREAKDOWNS, QUESTION])
    alone = wide[wide["mode_gestion"] == "caf"]
    assert len(alone) == 1
    small = (table["variable"] == QUESTION) & (table["level"] == "national") & (table["category"] == "caf")
    forged = table.copy()
    forged.loc[small & (table["statistic"] == "sum"), ["value", "status"]] = [float(alone[QUESTION].iloc[0]), "V"]
    national = (table["variable"] == QUESTION) & (table["level"] == "national") & (table["breakdown"] == "")
    forged.loc[national & (table["statistic"] == "sum"), ["value", "status"]] = [national_sum_after(DEFICIT), "V"]
    forged_decisions = [
        {"seq": 1, "id": "x", "variable": QUESTION, "answer": "", "level": "national", "territory": "FR",
         "breakdown": "mode_gestion", "category": "caf", "decision": "publier", "sum": float(alone[QUESTION].iloc[0]),
         "n": 1},
        {"seq": 2, "id": NATIONAL_TOTAL, "variable": QUESTION, "answer": "", "level": "national", "territory": "FR",
         "breakdown": "", "category": "", "decision": "publier", "sum": national_sum_after(-3000), "n": 24},
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": "senacs-review-decisions", "version": 1, "year": YEAR,
                                "decisions": forged_decisions}), encoding="utf-8")
    store = RawDataStore(workspace, "prep")
    result = audit_union([forged], store.wide(YEAR, "FR", store.latest_version(YEAR),
                                              variables=[*BREAKDOWNS, QUESTION]),
                         load_codebook(YEAR), variables=[QUESTION],
                         reviewed=read_review_publications(path, YEAR))
    failing = result.failures
    published = failing[failing["kind"] == "published"]
    assert {("mode_gestion", "caf"), ("", "")} <= set(zip(published["breakdown"], published["category"], strict=True))


def test_release_show_counts_the_cells_awaiting_review(workspace: Workspace) -> None:
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    _, shown = cli(workspace, "release", "show")
    assert "cellules à relire (statut R, masquées en attendant) : 15" in shown
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--cell", NATIONAL_TOTAL, "--masquer", "--motif", "vu")
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])  # a new decision: published again, not « unchanged »
    _, shown = cli(workspace, "release", "show")
    assert "cellules à relire (statut R, masquées en attendant) : 14" in shown


def test_a_cell_already_released_hidden_stays_hidden_and_the_list_says_so(workspace: Workspace) -> None:
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    for member in ("ccaf", "ffed"):
        result = CliRunner().invoke(main, ["release", "approve", "--year", str(YEAR), "--workspace",
                                           str(workspace.root)], env={"SENACS_USER": member})
        assert result.exit_code == 0, result.output
    assert review_list(workspace, YEAR)["released_hidden"].all()
    _, listing = cli(workspace, "secret", "list", "--year", str(YEAR))
    assert "15 de ces cellules ont déjà été diffusées masquées" in listing
    cli(workspace, "secret", "decide", "--year", str(YEAR), "--selon-avis", "--motif", "avis suivi")
    publish_year(workspace, YEAR, workers=1, only=[QUESTION])
    assert national_total(workspace)["status"] == "D"  # the ledger keeps the released status


def test_a_committee_member_may_neither_list_nor_decide_and_the_refusal_is_logged(workspace: Workspace) -> None:
    for args in (["secret", "list", "--year", str(YEAR)],
                 ["secret", "decide", "--year", str(YEAR), "--selon-avis", "--motif", "vu"]):
        result = CliRunner().invoke(main, [*args, "--workspace", str(workspace.root)], env={"SENACS_USER": "ccaf"})
        assert result.exit_code == 2 and "Accès refusé" in result.output, result.output
    refused = [e["action"] for e in audit_log.entries(workspace.audit_log_path) if e["user"] == "ccaf"]
    assert refused == ["refused:review_cells", "refused:review_decide"]
    assert not decisions_path(workspace.restricted, YEAR).exists()


GROUP_QUESTION = "actions_jeunesse"


def test_group_disclosure_sent_to_review_is_listed_decided_published_and_audited(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``group_disclosure.action: review`` (not the shipped setting), the counts of small groups
    whose respondents all gave the answer are status R too: listed, decided, published on the
    decision, and accepted by the independent audit only with the decision."""
    import dataclasses

    from senacs_workbench.disclosure import rules as rule_sets

    shipped = rule_sets.load_rules
    monkeypatch.setattr(rule_sets, "load_rules", lambda path=None: dataclasses.replace(shipped(path),
                                                                                      group_action="review"))
    cells = review_list(workspace, YEAR)
    groups = cells[cells["variable"] == GROUP_QUESTION]
    assert len(groups) and (groups["advice"] == "à masquer").all()
    publish_year(workspace, YEAR, workers=1, only=[*BREAKDOWNS, GROUP_QUESTION])
    manifest = json.loads((draft_dir(workspace, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    reasons = pd.read_parquet(workspace.restricted / "publication" / str(YEAR)
                              / f"reasons-{manifest['bundle_hash']}.parquet")
    engine = reasons[(reasons["variable"] == GROUP_QUESTION) & (reasons["status"] == "R")]
    as_keys = lambda frame: set(map(tuple, frame[["answer", *KEY]].astype(str).to_numpy().tolist()))  # noqa: E731
    assert as_keys(engine) == as_keys(groups)  # the list is the engine's group cells of status R

    ids = [arg for cell_id_ in groups["id"] for arg in ("--cell", cell_id_)]
    code, output = cli(workspace, "secret", "decide", "--year", str(YEAR), *ids, "--publier",
                       "--motif", "réponse sans enjeu")
    assert code == 0, output
    publish_year(workspace, YEAR, workers=1, only=[*BREAKDOWNS, GROUP_QUESTION])
    manifest = json.loads((draft_dir(workspace, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    reasons = pd.read_parquet(workspace.restricted / "publication" / str(YEAR)
                              / f"reasons-{manifest['bundle_hash']}.parquet")
    assert not (reasons[reasons["variable"] == GROUP_QUESTION]["status"] == "R").any()  # every decision applied
    bundle = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    counts = bundle[(bundle["variable"] == GROUP_QUESTION) & (bundle["statistic"] == "count")]
    shown = counts.merge(groups[["answer", *KEY, "sum"]], on=["answer", *KEY])
    shown = shown[shown["status"] == "V"]
    assert len(shown) and (shown["value"] == shown["sum"]).all()  # published as they are (others hidden as
    # secondary cells where a sibling stays suppressed)

    store = RawDataStore(workspace, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[*BREAKDOWNS, GROUP_QUESTION])
    reviewed = read_review_publications(decisions_path(workspace.restricted, YEAR), YEAR)
    audit = lambda decisions: audit_union([bundle], wide, load_codebook(YEAR),  # noqa: E731
                                          variables=[GROUP_QUESTION], reviewed=decisions).ok
    assert audit(reviewed)
    assert not audit(None)  # the same table without the decision: the audit finds the group disclosed

    for member in ("ccaf", "ffed"):  # released: the group cells left hidden stay hidden, and the list says so
        result = CliRunner().invoke(main, ["release", "approve", "--year", str(YEAR), "--workspace",
                                           str(workspace.root)], env={"SENACS_USER": member})
        assert result.exit_code == 0, result.output
    listed = review_list(workspace, YEAR)
    listed = listed[listed["variable"] == GROUP_QUESTION].merge(counts[["answer", *KEY, "status"]],
                                                                on=["answer", *KEY])
    assert listed["released_hidden"].tolist() == (listed["status"] != "V").tolist()
    assert listed["released_hidden"].any() and not listed["released_hidden"].all()
