"""The functions the CLI wires: French text out, the same workflow underneath."""

from __future__ import annotations

from pathlib import Path

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import commands
from senacs_workbench.restricted.coherence.resolution import coherence_status, list_findings, render_coherence_status

YEAR = 2024


def test_cli_functions(checked: Workspace, tmp_path: Path) -> None:
    assert "Contrôle de cohérence de la campagne 2024" in commands.check(checked, YEAR, "FR")
    listing = commands.findings_list(checked, YEAR)
    frame = list_findings(checked, YEAR)
    assert listing.count("\n") + 1 == len(frame)
    assert "[erreur, ouvert]" in listing or "[alerte, ouvert]" in listing
    assert "question posée au centre" in commands.findings_ask(checked, YEAR, structures=[frame["structure_id"][0]])
    etp = frame[frame["rule_id"] == "etp_superieur_salaries"].iloc[0]
    first = int(frame.loc[frame["rule_id"] != "etp_superieur_salaries", "finding_id"].iloc[0])
    assert "confirmé" in commands.findings_resolve(checked, first, "confirmer", why="le centre confirme")
    text = commands.correct(
        checked,
        etp["structure_id"],
        "salaries",
        "45",
        why="oubli des CDD",
        year=YEAR,
        finding=int(etp["finding_id"]),
        exchange="courriel",
    )
    assert "corrigée" in text and "reste lisible" in text
    history = commands.history(checked, etp["structure_id"], "salaries", YEAR)
    assert "version 1 (import)" in history and "oubli des CDD" in history and "courriel" in history
    other = frame[~frame["finding_id"].isin([first, etp["finding_id"]])].iloc[0]
    csv = tmp_path / "reponses.csv"
    variable = other["variables"].split("|")[0]
    csv.write_text(
        f"Campagne;N° constat;Identifiant structure;Question (code);Valeur juste\n"
        f"{YEAR};{other['finding_id']};{other['structure_id']};{variable};oui\n",
        encoding="utf-8",
    )
    assert "1 confirmé(s)" in commands.corrections_import(checked, csv)
    assert "fiche(s) de relecture" in commands.review_sheets(checked, YEAR)
    status = coherence_status(checked)
    assert status["years"][0]["resolved"] == 3
    share = f"{300 / status['years'][0]['findings']:.1f}".replace(".", ",")  # every finding of the run
    assert f"3 résolu(s) ({share}" in render_coherence_status(status)
