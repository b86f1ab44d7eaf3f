"""Trust that does not rest on the preparer's word (issue #17), on a real (non-demo) workspace.

Members have real Ed25519 keys (``senacs keys init``'s code, in a temporary home); the
governance is adopted by the committee's signatures; approvals are signatures of the bundle's
hash. Forged approvals of every kind, a governance edited without signatures, an audit log cut
short, deleted, rewritten or corrupted, and a ``SENACS_USER`` in a real workspace are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from senacs_workbench.apps.cli import main
from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import AccessDenied, AuditLogError, GovernanceError
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.governance_chain import adopt, chain_path, pending
from senacs_workbench.core.signatures import SignatureError, SignedStatement, sign
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.released.bundle_contract import MANIFEST, bundle_hash, read_manifest
from senacs_workbench.released.plaquette.build import PDF_NAME, draft_folder, read_record, write_record
from senacs_workbench.released.published import BundleError, PublishedReader
from senacs_workbench.restricted.publication.approval import approve, draft_dir, revoke
from senacs_workbench.restricted.publication.audit_anchors import workspace_anchors
from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, write_draft
from senacs_workbench.restricted.publication.comparisons import add_comparison
from senacs_workbench.restricted.publication.plaquette import PlaquetteError, approve_plaquette, publish_plaquette
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.access import require_raw_access
from senacs_workbench.trust.identity import acting_user, os_account
from senacs_workbench.trust.keys import init_key, key_path, load_private_key

YEAR = 2024
FRANCE = geo.territory("national", "FR")
DORDOGNE = geo.territory("departement", "24")
PEOPLE = ("caf.fr", "fed.fr", "caf.24", "fed.24", "intrus", "newcomer")


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Ed25519PrivateKey]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    public = {}
    for user in PEOPLE:
        path, public[user] = init_key(user)
        assert path.parent == tmp_path / "home" / "senacs" / "keys" and (path.stat().st_mode & 0o777) == 0o600
    return {user: load_private_key(key_path(user)) for user in PEOPLE}


def _public(keys: dict[str, Ed25519PrivateKey], user: str) -> str:
    return sign(keys[user], "bundle", "FR", "0" * 64, user).public_key


def _governance(keys: dict[str, Ed25519PrivateKey], extra_fr: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def member(user: str, institution: str) -> dict[str, Any]:
        return {"user": user, "name": user.upper(), "institution": institution, "key": _public(keys, user)}

    def entry(territory: str, caf: str, fed: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"territory": territory, "committee": [member(caf, "caf"), member(fed, "federation"), *(extra or [])],
                "preparer": {"user": "prep", "account": os_account(), "name": "Préparateur",
                             "designated_on": "2025-01-15", "designated_by": [caf, fed]}}

    return {"territories": [entry("FR", "caf.fr", "fed.fr", extra_fr), entry("departement:24", "caf.24", "fed.24")]}


def _adopt(workspace: Workspace, signers: tuple[str, ...], keys: dict[str, Ed25519PrivateKey]) -> None:
    digest, _ = pending(workspace.governance_path, workspace.territory)
    adopt(workspace.governance_path, workspace.territory,
          [sign(keys[u], "governance", workspace.territory.key, digest, u) for u in signers])


def _real_workspace(path: Path, keys: dict[str, Ed25519PrivateKey]) -> Workspace:
    workspace = init_workspace(path)
    workspace.governance_path.write_text(yaml.safe_dump(_governance(keys), allow_unicode=True), encoding="utf-8")
    _adopt(workspace, ("caf.fr", "fed.fr"), keys)
    return workspace


@pytest.fixture
def workspace(tmp_path: Path, keys: dict[str, Ed25519PrivateKey]) -> Workspace:
    return _real_workspace(tmp_path / "ws", keys)


def _cells() -> pd.DataFrame:
    rows = [(YEAR, "budget_total", "sum", "", "national", "FR", "", "", 1000.0, 12, "V"),
            (YEAR, "budget_total", "respondents", "", "national", "FR", "", "", 12.0, 12, "V")]
    return pd.DataFrame(rows, columns=["year", "variable", "statistic", "answer", "level", "territory", "breakdown",
                                       "category", "value", "n", "status"])


def _draft(workspace: Workspace) -> str:
    anchor = audit_log.head(workspace.audit_log_path)
    manifest = write_draft(workspace.published, _cells(),
                           BundleDescription(YEAR, "FR", 1, "r" * 64, {}, True, "prep", audit_anchor=anchor))
    return str(manifest["bundle_hash"])


def _signature(keys: dict[str, Ed25519PrivateKey], user: str, digest: str, *, kind: str = "bundle",
               territory: str = "FR", signer: str | None = None) -> SignedStatement:
    return sign(keys[signer or user], kind, territory, digest, user)


def _release(workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> Path:
    digest = _draft(workspace)
    approve(workspace, YEAR, signature=_signature(keys, "caf.fr", digest))
    outcome = approve(workspace, YEAR, signature=_signature(keys, "fed.fr", digest))
    assert outcome.released is not None
    return outcome.released


def test_signed_approvals_of_a_caf_and_a_federation_member_release_and_are_read(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    released = _release(workspace, keys)
    assert (released / "governance-chain.json").exists()
    table = PublishedReader(workspace.published).table(YEAR)
    assert table.loc[table.statistic == "sum", "value"].tolist() == [1000.0]


def test_in_a_real_workspace_no_one_approves_without_a_signature(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey], monkeypatch: pytest.MonkeyPatch) -> None:
    _draft(workspace)
    monkeypatch.setenv("SENACS_USER", "caf.fr")  # a declaration, ignored in a real workspace
    assert acting_user(workspace.governance_path) == "prep"
    with pytest.raises(AccessDenied, match="prep n'est pas membre"):
        approve(workspace, YEAR)
    with pytest.raises(AccessDenied, match="signature d'un membre du comité"):
        approve(workspace, YEAR, user="caf.fr")
    assert read_manifest(draft_dir(workspace, YEAR))["approvals"] == []


@pytest.mark.parametrize("forgery", ["key not on the committee", "another hash", "another territory's member",
                                     "another kind", "unknown user"])
def test_a_forged_signature_is_refused_when_recorded(workspace: Workspace, keys: dict[str, Ed25519PrivateKey],
                                                     forgery: str) -> None:
    digest = _draft(workspace)
    signature = {
        "key not on the committee": lambda: _signature(keys, "fed.fr", digest, signer="intrus"),
        "another hash": lambda: _signature(keys, "fed.fr", "f" * 64),
        "another territory's member": lambda: _signature(keys, "fed.24", digest),
        "another kind": lambda: _signature(keys, "fed.fr", digest, kind="plaquette"),
        "unknown user": lambda: _signature(keys, "intrus", digest),
    }[forgery]()
    with pytest.raises(AccessDenied, match="Signature refusée"):
        approve(workspace, YEAR, signature=signature)
    assert audit_log.entries(workspace.audit_log_path)[-1]["action"] == "refused:approve_bundle"
    assert read_manifest(draft_dir(workspace, YEAR))["approvals"] == []


def _forge(keys: dict[str, Ed25519PrivateKey], approval: dict[str, Any], forgery: str, digest: str) -> dict[str, Any]:
    if forgery == "no signature":
        return {k: v for k, v in approval.items() if k != "signature"}
    if forgery == "key not on the committee":
        return {**approval, "signature": _signature(keys, "fed.fr", digest, signer="intrus").to_dict()}
    if forgery == "another hash":
        return {**approval, "signature": _signature(keys, "fed.fr", "f" * 64).to_dict()}
    if forgery == "another territory's member":  # a valid signature by the Dordogne's federation member
        return {**approval, "user": "fed.24", "signature": _signature(keys, "fed.24", digest).to_dict()}
    return {**approval, "user": "nobody", "institution": "federation"}  # a name in no governance file


FORGERIES = ["no signature", "key not on the committee", "another hash", "another territory's member",
             "unknown user"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_manifest_with_a_forged_approval_is_refused_by_every_reader(
        tmp_path: Path, workspace: Workspace, keys: dict[str, Ed25519PrivateKey], forgery: str) -> None:
    released = _release(workspace, keys)
    manifest = read_manifest(released)
    digest = bundle_hash(manifest)
    manifest["approvals"] = [a if a["user"] != "fed.fr" else _forge(keys, a, forgery, digest)
                             for a in manifest["approvals"]]
    (released / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BundleError, match="approbation signée"):
        PublishedReader(workspace.published).table(YEAR)
    other = _real_workspace(tmp_path / "other", keys)
    with pytest.raises(BundleError, match="approbation signée"):
        add_comparison(other, workspace.published)
    result = CliRunner().invoke(main, ["export", "--year", str(YEAR), "--workspace", str(workspace.root)])
    assert result.exit_code != 0 and "approbation signée" in result.output
    from senacs_workbench.released.dashboard.data import load_catalog

    with pytest.raises(BundleError, match="approbation signée"):  # what the dashboards load
        load_catalog(workspace.published)


def test_a_bundle_without_its_governance_chain_is_not_read(workspace: Workspace,
                                                           keys: dict[str, Ed25519PrivateKey]) -> None:
    released = _release(workspace, keys)
    (released / "governance-chain.json").unlink()
    with pytest.raises(BundleError, match="gouvernance signée"):
        PublishedReader(workspace.published).table(YEAR)


def test_compare_add_pins_the_governance_identity_of_each_source(
        tmp_path: Path, workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    _release(workspace, keys)
    receiver = _real_workspace(tmp_path / "receiver", keys)
    assert any("ajouté" in line for line in add_comparison(receiver, workspace.published))
    # the source's workspace is recreated with a new governance chain (other keys, same names)
    impostor_keys = {user: Ed25519PrivateKey.generate() for user in PEOPLE}
    impostor = _real_workspace(tmp_path / "impostor", impostor_keys)
    digest = _draft(impostor)
    approve(impostor, YEAR, signature=_signature(impostor_keys, "caf.fr", digest))
    approve(impostor, YEAR, signature=_signature(impostor_keys, "fed.fr", digest))
    with pytest.raises(Exception, match="autre identité"):
        add_comparison(receiver, impostor.published)


def test_a_revoked_approval_no_longer_counts(workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    digest = _draft(workspace)
    approve(workspace, YEAR, signature=_signature(keys, "caf.fr", digest))
    revoke(workspace, YEAR, "caf.fr")
    outcome = approve(workspace, YEAR, signature=_signature(keys, "fed.fr", digest))
    assert outcome.released is None and outcome.missing == ["caf"]


def test_a_forged_plaquette_approval_is_refused_by_the_publisher(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    folder = draft_folder(workspace.reports, "FR", YEAR)
    folder.mkdir(parents=True)
    (folder / PDF_NAME).write_bytes(b"%PDF-1.7 plaquette")
    digest = hashlib.sha256(b"%PDF-1.7 plaquette").hexdigest()
    write_record(folder, {"pdf_sha256": digest, "approvals": [], "edito_placeholder": False})
    approve_plaquette(workspace, "FR", YEAR, signature=_signature(keys, "caf.fr", digest, kind="plaquette"))
    with pytest.raises(AccessDenied, match="Signature refusée"):  # a bundle signature is not a plaquette's
        approve_plaquette(workspace, "FR", YEAR, signature=_signature(keys, "fed.fr", digest))
    record = read_record(folder)
    assert record is not None
    record["approvals"].append({"user": "fed.fr", "institution": "federation", "time": "t", "pdf_sha256": digest})
    write_record(folder, record)  # the preparer writes an unsigned approval into the record
    with pytest.raises(PlaquetteError, match="approbation signée d'un membre fédération"):
        publish_plaquette(workspace, "FR", YEAR)


def test_a_governance_changed_without_the_committee_is_refused(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    # the preparer adds a committee member of their choice
    raw = _governance(keys, extra_fr=[{"user": "newcomer", "name": "N", "institution": "federation",
                                       "key": _public(keys, "newcomer")}])
    workspace.governance_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(GovernanceError, match="modifié depuis la version 1"):
        load_governance(workspace.governance_path)
    with pytest.raises(GovernanceError, match="modifié depuis la version 1"):
        require_raw_access(workspace, "read_answers", FRANCE)
    # signed by the newcomer, who is not on the committee of the version in force
    with pytest.raises(GovernanceError, match="il manque : Caf"):
        _adopt(workspace, ("newcomer", "fed.fr"), keys)
    assert len(json.loads(chain_path(workspace.governance_path).read_text())["versions"]) == 1
    _adopt(workspace, ("caf.fr", "fed.fr"), keys)  # the committee in force signs it in
    assert load_governance(workspace.governance_path).for_territory(FRANCE).committee_member("newcomer")


@pytest.mark.parametrize("tamper", ["edit a version", "drop the chain", "demo keys"])
def test_a_rewritten_or_removed_governance_chain_is_refused(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey], tamper: str) -> None:
    path = chain_path(workspace.governance_path)
    if tamper == "edit a version":
        document = json.loads(path.read_text())
        document["versions"][0]["text"] = document["versions"][0]["text"].replace("caf.fr", "caf.fx")
        path.write_text(json.dumps(document))
        match = "chaîne est rompue"
    elif tamper == "drop the chain":
        path.unlink()
        match = "pas de version adoptée"
    else:
        from senacs_workbench.trust.demo_keys import adopt_demo_governance

        with pytest.raises(GovernanceError):
            adopt_demo_governance(workspace)  # a real governance cannot turn into a demo one
        return
    with pytest.raises(GovernanceError, match=match):
        load_governance(workspace.governance_path)


def test_senacs_user_is_ignored_in_a_real_workspace(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENACS_USER", "caf.24")
    assert require_raw_access(workspace, "read_answers", FRANCE) == "prep"
    assert audit_log.entries(workspace.audit_log_path)[-1]["user"] == "prep"


@pytest.mark.parametrize("tamper", ["truncate", "delete", "rewrite"])
def test_the_audit_log_is_checked_against_the_signed_anchors(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey], tamper: str) -> None:
    for _ in range(3):
        require_raw_access(workspace, "read_answers", FRANCE)
    _release(workspace, keys)
    log = workspace.audit_log_path
    anchors = workspace_anchors(workspace)
    assert anchors and audit_log.verify(log, anchors).entries > anchors[0].seq
    lines = log.read_text(encoding="utf-8").splitlines()
    if tamper == "truncate":
        log.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
        match = "tronqué"
    elif tamper == "delete":
        log.unlink()
        match = "supprimé"
    else:  # a whole new chain, consistent by itself
        log.unlink()
        for _ in range(6):
            audit_log.append(log, user="prep", action="read_answers", territory="FR")
        match = "réécrit"
    if tamper != "delete":
        audit_log.verify(log)  # the chain alone looks intact
    with pytest.raises(AuditLogError, match=match):
        audit_log.verify(log, anchors)
    result = CliRunner().invoke(main, ["audit", "verify", "--workspace", str(workspace.root)])
    assert result.exit_code == 2 and match in result.output


def test_a_corrupt_audit_line_is_named_and_never_extended_past(workspace: Workspace) -> None:
    require_raw_access(workspace, "read_answers", FRANCE)
    log = workspace.audit_log_path
    log.write_text(log.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    before = log.read_bytes()
    with pytest.raises(AuditLogError, match="ligne 2 : illisible"):
        require_raw_access(workspace, "read_answers", FRANCE)
    assert log.read_bytes() == before
    result = CliRunner().invoke(main, ["status", "--workspace", str(workspace.root)])
    assert "Traceback" not in result.output and "ligne 2" in result.output


def test_keys_stay_out_of_workspaces_and_are_private(tmp_path: Path, workspace: Workspace,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SignatureError, match="jamais dans un espace"):
        init_key("someone", workspace.root / "keys")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "h2"))
    path, public = init_key("secret", passphrase="phrase de passe")
    with pytest.raises(SignatureError, match="phrase de passe est fausse"):
        load_private_key(path, "autre")
    assert sign(load_private_key(path, "phrase de passe"), "bundle", "FR", "0" * 64, "secret").public_key == public
    with pytest.raises(SignatureError, match="n'est pas remplacée"):
        init_key("secret")
    os.chmod(path, 0o644)
    with pytest.raises(SignatureError, match="lisible par d'autres"):
        load_private_key(path, "phrase de passe")


def test_members_sign_from_the_hash_alone_and_the_preparer_records_it(
        tmp_path: Path, workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    digest = _draft(workspace)
    runner = CliRunner()
    files = []
    for user in ("caf.fr", "fed.fr"):
        out = tmp_path / f"{user}.sig"
        result = runner.invoke(main, ["release", "sign", "--territory", "FR", "--hash", digest, "--user", user,
                                      "--output", str(out)])
        assert result.exit_code == 0, result.output
        files.append(out)
    first = runner.invoke(main, ["release", "approve", "--year", str(YEAR), "--signature", str(files[0]),
                                 "--workspace", str(workspace.root)])
    assert first.exit_code == 0 and "il manque encore" in first.output
    second = runner.invoke(main, ["release", "approve", "--year", str(YEAR), "--signature", str(files[1]),
                                  "--workspace", str(workspace.root)])
    assert second.exit_code == 0 and "est publié" in second.output
    assert PublishedReader(workspace.published).years() == [YEAR]


def test_a_release_is_withdrawn_only_by_the_committees_signatures(
        workspace: Workspace, keys: dict[str, Ed25519PrivateKey]) -> None:
    from senacs_workbench.restricted.publication.withdrawal import WithdrawalError, withdraw

    released = _release(workspace, keys)
    digest = bundle_hash(read_manifest(released))
    reader = PublishedReader(workspace.published)
    approval_not_withdrawal = _signature(keys, "fed.fr", digest)
    with pytest.raises(WithdrawalError, match="il faut la signature du retrait"):
        withdraw(workspace, YEAR, "erreur de saisie",
                 [_signature(keys, "caf.fr", digest, kind="withdrawal"), approval_not_withdrawal])
    assert reader.years() == [YEAR]
    (released / "withdrawal.json").write_text(json.dumps({"approvals": [{"user": "caf.fr"}, {"user": "fed.fr"}]}))
    assert reader.years() == [YEAR]  # a withdrawal written without signatures withdraws nothing
    (released / "withdrawal.json").unlink()
    message = withdraw(workspace, YEAR, "erreur de saisie",
                       [_signature(keys, u, digest, kind="withdrawal") for u in ("caf.fr", "fed.fr")])
    assert "est retiré" in message
    assert reader.years() == []
    with pytest.raises(BundleError, match="Aucun jeu de tableaux validé"):
        reader.table(YEAR)
    assert audit_log.entries(workspace.audit_log_path)[-1]["action"] == "withdraw_bundle"
