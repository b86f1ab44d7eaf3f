"""One bad input for every ``senacs`` command: a French message, exit status 2, no traceback.

Driven in-process through click's ``CliRunner`` on a small national workspace (six structures
imported), so that the whole file runs in seconds. Where the bad input is a file, the message
names it (and the line and column for an import).
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv
from workspace_support import national_workspace_at

import senacs_workbench
from senacs_workbench.apps.cli import main
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure.ledger import LedgerConflict
from senacs_workbench.restricted.importing import ImportRejected
from senacs_workbench.restricted.intake import import_file

ENGLISH = ("Error:", "Invalid value", "Missing argument", "Missing option", "No such", "does not exist",
           "is not a valid", "Usage:", "Try '")


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    root = tmp_path_factory.mktemp("cli_errors")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SENACS_USER", "prep")
        workspace = national_workspace_at(root / "ws")
        import_file(workspace, write_csv(export_frame(), root / "senacs_2024.csv"), YEAR)
    bad = export_frame()
    bad.loc[2, "budget_total"] = "douze"
    write_csv(bad, root / "mauvais_2024.csv")
    (root / "notes.txt").write_text("pas une fiche\n", encoding="utf-8")
    (root / "campagne.yaml").write_text("notebooks: [\n", encoding="utf-8")
    (root / "vide").mkdir()
    return workspace, root


# (name, arguments, text the message must contain). ``{ws}``: the workspace, ``{root}``: the files.
CASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("init", ["init", "{root}/nouveau", "--territory", "999"], ("Territoire inconnu", "« --territory »")),
    ("status", ["status", "--workspace", "{root}/absent"], ("Aucun espace de travail", "absent")),
    ("synth", ["synth", "--years", "2010", "--out", "{root}/synth"], ("Aucun questionnaire", "2010")),
    ("import", ["import", "{root}/mauvais_2024.csv", "--year", "2024", "-W"],
     ("mauvais_2024.csv, ligne 4, colonne « budget_total »", "douze", "aucune donnée n'a été enregistrée")),
    ("import (missing file)", ["import", "{root}/absent.csv", "--year", "2024", "-W"],
     ("Le fichier « {root}/absent.csv » n'existe pas", "« FILE »")),
    ("import (missing year)", ["import", "{root}/mauvais_2024.csv", "-W"], ("Option obligatoire manquante : --year",)),
    ("audit verify", ["audit", "verify", "--workspace", "{root}/absent"], ("Aucun espace de travail",)),
    ("audit show", ["audit", "show", "--last", "beaucoup", "-W"], ("« beaucoup » n'est pas un nombre entier",)),
    ("check", ["check", "--year", "2024", "--territory", "999", "-W"], ("Territoire inconnu", "999")),
    ("findings list", ["findings", "list", "--status", "bidon", "-W"], ("État « bidon » inconnu",)),
    ("findings ask", ["findings", "ask", "--year", "2024", "--territory", "999", "-W"], ("Territoire inconnu",)),
    ("findings resolve", ["findings", "resolve", "999", "confirm", "--why", "x", "-W"],
     ("Le constat n° 999 n'existe pas",)),
    ("findings resolve (choice)", ["findings", "resolve", "1", "peut-être", "--why", "x", "-W"],
     ("« peut-être » n'est pas une valeur possible", "« OUTCOME »")),
    ("correct", ["correct", "S999999", "budget_total", "3", "--year", "2024", "--why", "x", "-W"],
     ("La structure « S999999 » n'existe pas",)),
    ("corrections import", ["corrections", "import", "{root}/notes.txt", "-W"],
     ("Fichier de corrections refusé : notes.txt",)),
    ("review-sheets", ["review-sheets", "--year", "2010", "-W"], ("Aucun questionnaire pour la campagne 2010",)),
    ("review import", ["review", "import", "{root}/notes.txt", "-W"], ("Fiche de relecture refusée : notes.txt",)),
    ("secret list", ["secret", "list", "--year", "2023", "-W"], ("La campagne 2023 n'a pas de données importées",)),
    ("secret decide", ["secret", "decide", "--year", "2024", "--cell", "r000000000000", "--publier", "--motif", "vu",
                       "-W"], ("Cellule(s) inconnue(s)", "r000000000000", "senacs secret list --year 2024")),
    ("history", ["history", "S000001", "pas_une_question", "--year", "2024", "-W"],
     ("La question « pas_une_question » n'existe pas",)),
    ("publish", ["publish", "--year", "2023", "-W"], ("Aucune donnée importée pour la campagne 2023",)),
    ("publish --infra", ["publish", "--year", "2024", "--infra", "999", "-W"], ("Territoire inconnu",)),
    ("panel", ["panel", "--years", "2024-2019", "-W"], ("Période du panel invalide",)),
    ("release show", ["release", "show", "--workspace", "{root}/absent"], ("Aucun espace de travail",)),
    ("release approve", ["release", "approve", "--year", "2024", "-W"], ("Aucun jeu de tableaux en attente",)),
    ("release reject", ["release", "reject", "--year", "2024", "--reason", "erreur de saisie", "-W"],
     ("Aucun jeu de tableaux en attente d'approbation pour la campagne 2024 : rien à rejeter",)),
    ("release hash", ["release", "hash", "--year", "2024", "-W"], ("Aucun jeu de tableaux en attente",)),
    ("release revoke", ["release", "revoke", "--year", "2024", "--user", "ccaf", "-W"],
     ("Aucun jeu de tableaux en attente",)),
    ("release sign", ["release", "sign", "--territory", "FR", "--hash", "abc"], ("Empreinte illisible", "abc")),
    ("release sign-withdrawal", ["release", "sign-withdrawal", "--territory", "999", "--hash", "0" * 64],
     ("Territoire inconnu",)),
    ("release withdraw", ["release", "withdraw", "--year", "2024", "--reason", "erreur", "-W"],
     ("Aucun jeu de tableaux publié pour la campagne 2024",)),
    ("plaquette sign", ["plaquette", "sign", "--territory", "FR", "--hash", "0" * 64, "--key", "{root}/absent.pem"],
     ("Clé privée introuvable", "absent.pem")),
    ("keys init", ["keys", "init", "--user", "x", "--dir", "{root}/ws/cles"], ("jamais dans un espace",)),
    ("keys show", ["keys", "show", "--user", "personne", "--dir", "{root}/vide"], ("Clé privée introuvable",)),
    ("governance status", ["governance", "status", "--workspace", "{root}/absent"], ("Aucun espace de travail",)),
    ("governance sign", ["governance", "sign", "--territory", "FR", "--hash", "zz"], ("Empreinte illisible",)),
    ("governance adopt", ["governance", "adopt", "--signature", "{root}/notes.txt", "-W"],
     ("Le fichier de signature", "notes.txt", "illisible")),
    ("export", ["export", "--year", "2024", "-W"], ("Aucun jeu de tableaux",)),
    ("compare add", ["compare", "add", "{root}/vide", "-W"], ("Aucun jeu de tableaux publié", "vide")),
    ("plaquette build", ["plaquette", "build", "--territory", "999", "--year", "2024", "-W"],
     ("Territoire inconnu : département « 999 »",)),
    ("plaquette approve", ["plaquette", "approve", "--territory", "999", "--year", "2024", "-W"],
     ("Territoire inconnu",)),
    ("plaquette publish", ["plaquette", "publish", "--territory", "999", "--year", "2024", "-W"],
     ("Territoire inconnu",)),
    ("run", ["run", "{root}/campagne.yaml", "-W"], ("Campagne refusée", "campagne.yaml", "YAML illisible")),
    ("lab", ["lab", "--port", "abc", "-W"], ("« abc » n'est pas un nombre entier", "« --port »")),
    ("serve", ["serve", "--pool-size", "abc", "-W"], ("« --pool-size »",)),
    ("demo", ["demo", "--years", "deux mille", "--workspace", "{root}/demo"], ("années illisibles",)),
    ("backup", ["backup", "--out", "{root}/ws/sauvegarde.tar.gz", "-W"],
     ("serait écrite dans l'espace de travail lui-même",)),
    ("restore", ["restore", "{root}/notes.txt", "--workspace", "{root}/restauration"],
     ("notes.txt n'est pas une sauvegarde SENACS lisible", "rien n'a été écrit")),
    ("erase", ["erase", "S999999", "--reason", "demande RGPD", "-W"], ("La structure S999999 n'a aucune donnée",)),
    ("unknown command", ["publier"], ("Commande inconnue : « publier ». Vouliez-vous dire « publish » ?",)),
    ("unknown option", ["status", "--jsn", "-W"], ("Option inconnue : « --jsn »",)),
]


def _expand(items: list[str] | tuple[str, ...], workspace: Workspace, root: Path) -> list[str]:
    out: list[str] = []
    for item in items:
        if item == "-W":
            out += ["--workspace", str(workspace.root)]
        else:
            out.append(item.replace("{root}", str(root)))
    return out


def _invoke(args: list[str]) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, args, env={"SENACS_USER": "prep"})
    return result.exit_code, result.output, result.exception


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_a_french_error_and_status_2(
    place: tuple[Workspace, Path], args: list[str], expected: tuple[str, ...]
) -> None:
    workspace, root = place
    code, output, exception = _invoke(_expand(args, workspace, root))
    assert code == 2, output
    assert isinstance(exception, SystemExit), exception
    assert "Traceback" not in output
    assert output.startswith("Erreur : "), output
    for text in _expand(list(expected), workspace, root):
        assert text in output, output
    for english in ENGLISH:
        assert english not in output, output


def test_every_command_has_a_bad_input_case() -> None:
    def names(group: object, prefix: str = "") -> set[str]:
        found: set[str] = set()
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                found |= names(command, f"{prefix}{name} ")
            else:
                found.add(f"{prefix}{name}")
        return found

    covered = {case[0].split(" (")[0].replace(" --infra", "") for case in CASES}
    assert names(main) <= covered, names(main) - covered


def test_a_ledger_conflict_from_publish_is_reported_in_french(
    place: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from senacs_workbench.restricted.publication import publish

    def conflicting(workspace: Workspace, year: int, **options: object) -> None:
        raise LedgerConflict("La version 2 modifie 3 cellules déjà publiées : publication impossible sans "
                             "les révéler.")

    monkeypatch.setattr(publish, "publish_year", conflicting)
    workspace, _ = place
    code, output, _ = _invoke(["publish", "--year", "2024", "--workspace", str(workspace.root)])
    assert code == 2 and "Traceback" not in output
    assert output.startswith("Erreur : La version 2 modifie 3 cellules")


def test_errors_keep_their_fields_across_processes() -> None:
    from senacs_workbench.restricted.importing.issues import ImportIssue

    issue = ImportIssue(file="f.csv", line=12, column="budget_total", rule="nombre attendu")
    rejected = ImportRejected("f.csv", [issue])
    assert (rejected.file, rejected.line, rejected.column) == ("f.csv", 12, "budget_total")
    copy = pickle.loads(pickle.dumps(rejected))
    assert type(copy) is ImportRejected and str(copy) == str(rejected)
    assert copy.fields == {"file": "f.csv", "line": 12, "column": "budget_total"}
    assert copy.issues[0].line == 12
    conflict = pickle.loads(pickle.dumps(LedgerConflict("Conflit avec le registre.")))
    assert isinstance(conflict, SenacsError) and str(conflict) == "Conflit avec le registre."


# Exceptions that never reach a user: raised and caught inside one module, turned there into a
# SenacsError that names the file, line and column.
INTERNAL = {"AnswerProblem", "ValueProblem"}
BUILTIN_BASES = {"Exception", "ValueError", "KeyError", "RuntimeError", "TypeError", "LookupError", "OSError"}


def test_every_exception_class_of_the_package_is_a_senacs_error() -> None:
    package = Path(senacs_workbench.__file__).parent
    outside: list[str] = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                builtin_only = bool(bases & BUILTIN_BASES) and not bases - BUILTIN_BASES
                if builtin_only and node.name not in INTERNAL | {"SenacsError"}:
                    outside.append(f"{path.relative_to(package)}:{node.name}")
    assert outside == []
