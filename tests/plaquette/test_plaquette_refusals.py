"""The plaquette refuses, through the ``senacs`` command: an unknown territory, a territory absent from
the release, and approval or publication while the édito is still the placeholder (French, exit 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from plaquette_cells import release_in_workspace, synthetic_cells
from plaquette_support import YEAR, needs_chromium, write_edito

from senacs_workbench.apps.cli import main
from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.demo.governance import demo_governance
from senacs_workbench.demo.release import demo_committee
from senacs_workbench.released.plaquette.build import PlaquetteBuilder, draft_folder, read_record, write_record
from senacs_workbench.restricted.publication.plaquette import build_plaquette
from senacs_workbench.trust.audit_log import entries
from senacs_workbench.trust.demo_keys import adopt_demo_governance

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def builder() -> Iterator[PlaquetteBuilder]:
    with PlaquetteBuilder() as started:
        yield started


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A national workspace whose release covers two départements of Nouvelle-Aquitaine only."""
    workspace = init_workspace(tmp_path_factory.mktemp("partial") / "ws")
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    release_in_workspace(workspace, synthetic_cells(YEAR, departements=["24", "33"]), YEAR)
    return workspace


def _senacs(workspace: Workspace, *args: str, user: str = "prep") -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--workspace", str(workspace.root)], env={"SENACS_USER": user})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_an_unknown_territory_is_refused(partial: Workspace) -> None:
    code, output = _senacs(partial, "plaquette", "build", "--territory", "999", "--year", str(YEAR))
    assert code == 2 and output.startswith("Erreur : ") and "Territoire inconnu" in output and "999" in output
    assert not (partial.reports / "committee" / "plaquettes" / str(YEAR) / "999").exists()


@pytest.mark.parametrize(("territory", "name"), [("13", "Bouches-du-Rhône (13)"), ("R93", "Région Provence")])
def test_a_territory_absent_from_the_release_is_refused(partial: Workspace, territory: str, name: str) -> None:
    code, output = _senacs(partial, "plaquette", "build", "--territory", territory, "--year", str(YEAR))
    assert code == 2, output
    assert output.startswith("Erreur : Plaquette refusée") and name in output
    assert f"absent du jeu de tableaux publié de la campagne {YEAR}" in output
    assert not draft_folder(partial.reports, territory, YEAR).exists()  # no leaflet of dashes


def test_a_territory_of_the_release_is_built(partial: Workspace, builder: PlaquetteBuilder) -> None:
    result = build_plaquette(partial, "33", YEAR, builder=builder)
    assert result.pdf.exists()


def test_approval_and_publication_are_refused_while_the_edito_is_a_placeholder(
        partial: Workspace, builder: PlaquetteBuilder) -> None:
    build_plaquette(partial, "24", YEAR, builder=builder)  # no édito yet: the placeholder is printed
    assert read_record(draft_folder(partial.reports, "24", YEAR))["edito_placeholder"] is True  # type: ignore[index]
    caf, federation = demo_committee("24")
    for user in (caf, federation):
        code, output = _senacs(partial, "plaquette", "approve", "--territory", "24", "--year", str(YEAR), user=user)
        assert code == 2, output
        assert output.startswith("Erreur : Approbation refusée") and "texte provisoire" in output
        assert "plaquette/edito/24.md" in output
    code, output = _senacs(partial, "plaquette", "publish", "--territory", "24", "--year", str(YEAR))
    assert code == 2 and output.startswith("Erreur : Publication refusée") and "texte provisoire" in output
    assert [e["action"] for e in entries(partial.audit_log_path)][-3:] == [
        "refused:approve_plaquette", "refused:approve_plaquette", "refused:publish_plaquette"]
    assert not read_record(draft_folder(partial.reports, "24", YEAR))["approvals"]  # type: ignore[index]

    write_edito(partial, "24")  # the committee writes its édito; the plaquette is built again
    build_plaquette(partial, "24", YEAR, builder=builder)
    for user in (caf, federation):
        code, output = _senacs(partial, "plaquette", "approve", "--territory", "24", "--year", str(YEAR), user=user)
        assert code == 0, output
    code, output = _senacs(partial, "plaquette", "publish", "--territory", "24", "--year", str(YEAR))
    assert code == 0 and "Plaquette publiée" in output


def test_a_draft_built_before_the_record_said_so_is_checked_in_its_html(
        partial: Workspace, builder: PlaquetteBuilder) -> None:
    build_plaquette(partial, "R75", YEAR, builder=builder)
    folder = draft_folder(partial.reports, "R75", YEAR)
    record = read_record(folder)
    assert record is not None
    del record["edito_placeholder"]  # a record written by an earlier version of the workbench
    write_record(folder, record)
    code, output = _senacs(partial, "plaquette", "approve", "--territory", "R75", "--year", str(YEAR),
                           user=demo_committee("R75")[0])
    assert code == 2 and "texte provisoire" in output
