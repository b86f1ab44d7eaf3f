"""``senacs secret list`` / ``senacs secret decide``: a person reviews the cells of status R.

:func:`review_list` (also for the preparer's notebooks) reads the raw data in one authorised
session (:func:`~senacs_workbench.trust.access.require_raw_access`: logged in the audit log) and
returns the cells awaiting review (:mod:`.review_cells`) with the decision in force for each.
:func:`decide` records « publier » / « masquer » with its reason and author
(:mod:`.review_decisions`), under the workspace lock, and logs it; ``senacs publish`` then
applies the decisions (a cell decided « publier » is published unless another rule makes it
sensitive; « masquer » or no decision: a primary suppression).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core.codebook import BREAKDOWNS, Question
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.formatting import format_euros, format_number, format_percent
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure import rules as rule_sets
from senacs_workbench.disclosure.rules import RuleSet
from senacs_workbench.restricted.publication import review_decisions as rd
from senacs_workbench.restricted.publication.review_cells import ADVICE_PUBLISH, group_cells, negative_sum_cells
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.identity import acting_user

LEVEL_LABELS = {"national": "France", "region": "région", "departement": "département"}


class ReviewInputError(SenacsError):
    """A review command's input is wrong (message in French); nothing was recorded."""


def candidate_questions(year: int) -> list[Question]:
    """The tabulated numeric questions whose answers may be negative (a lower bound below zero
    or none): only they can make a sum of status R (out-of-bounds values never reach a sum)."""
    from senacs_workbench.restricted.publication.publish import tabulated_questions

    def may_be_negative(q: Question) -> bool:
        low = q.minimum
        return not (isinstance(low, int | float) and not isinstance(low, bool) and low >= 0)

    return [q for q in tabulated_questions(year) if q.type.is_numeric and may_be_negative(q)]


def group_questions(year: int, rules: RuleSet) -> list[Question]:
    """The tabulated categorical questions whose counts group disclosure sends to review: none
    with the shipped rule set (``group_disclosure.action: suppress``)."""
    from senacs_workbench.restricted.publication.publish import tabulated_questions

    if not (rules.group_enabled and rules.group_action == "review"):
        return []
    return [q for q in tabulated_questions(year) if not q.type.is_numeric and not (q.public and rules.public_exempt)]


def review_questions(year: int, rules: RuleSet) -> tuple[list[Question], list[Question]]:
    """(questions whose sums may be status R for a negative contribution, questions whose counts
    may be status R for group disclosure) under ``rules``."""
    return candidate_questions(year) if rules.negative_status == "R" else [], group_questions(year, rules)


def cells_of(wide: pd.DataFrame, year: int, levels: Sequence[str], rules: RuleSet | None = None) -> pd.DataFrame:
    """The cells awaiting review in ``wide`` (restricted microdata), with the rule set's thresholds
    (``rules``: the packaged rule set when not given)."""
    rules = rules or rule_sets.load_rules()
    negative, grouped = review_questions(year, rules)
    cells = negative_sum_cells(wide, negative, year, levels, min_contributors=rules.min_contributors,
                               dominance_n=rules.dominance_n, dominance_k=rules.dominance_k,
                               p_percent=rules.p_percent)
    if not grouped:
        return cells
    groups = group_cells(wide, grouped, year, levels, min_contributors=rules.min_contributors,
                         max_respondents=rules.group_max_respondents, include_none=rules.group_include_none,
                         none_all_answers=rules.group_none_all_answers)
    return groups if cells.empty else pd.concat([cells, groups], ignore_index=True)


def _read_cells(workspace: Workspace, year: int, user: str, action: str) -> tuple[int, pd.DataFrame]:
    from senacs_workbench.restricted.publication.publish import LEVELS_OF_WORKSPACE
    from senacs_workbench.restricted.store import RawDataStore

    territory = workspace.territory
    rules = rule_sets.load_rules()
    negative, grouped = review_questions(year, rules)
    with RawDataStore(workspace, user).session(action, territory, details={"year": year}) as raw:
        versions = raw.versions(year)
        if not len(versions):
            raise ReviewInputError(f"La campagne {year} n'a pas de données importées.")
        version = raw.latest_version(year)
        wide = raw.wide(year, territory, version, variables=[*BREAKDOWNS, *(q.id for q in [*negative, *grouped])])
    return version, cells_of(wide, year, LEVELS_OF_WORKSPACE[territory.level], rules)


def with_decisions(cells: pd.DataFrame, decisions: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``cells`` with the decision in force: decision, decision_user, decision_time,
    decision_reason, stale (taken on a cell that has changed since)."""
    current = rd.latest(decisions)
    frame = cells.copy()
    found = [current.get(i) for i in frame["id"]]
    frame["decision"] = [d["decision"] if d else "" for d in found]
    frame["decision_user"] = [d["user"] if d else "" for d in found]
    frame["decision_time"] = [d["time"] if d else "" for d in found]
    frame["decision_reason"] = [d["reason"] if d else "" for d in found]
    frame["stale"] = [d is not None and d.get("fingerprint") != f
                      for d, f in zip(found, frame["fingerprint"], strict=True)]
    return frame


def released_hidden(workspace: Workspace, cells: pd.DataFrame, year: int) -> pd.Series:
    """Whether each cell was already released hidden for ``year``: the ledger keeps it hidden in
    every later release of the year, so a « publier » decision changes nothing there."""
    from senacs_workbench.restricted.publication.ledger_store import released_cells

    released = released_cells(workspace, year)
    if released is None or cells.empty:
        return pd.Series(False, index=cells.index)
    # a negative-sum cell is a sum (answer ""), a group cell the count of its answer
    keys = ["variable", "answer", "level", "territory", "breakdown", "category"]
    reviewed = released[released["statistic"].isin(["sum", "count"])].copy()
    reviewed["answer"] = reviewed["answer"].fillna("")
    reviewed = reviewed[(reviewed["statistic"] == "sum") == (reviewed["answer"] == "")]
    reviewed = reviewed.drop_duplicates(keys, keep="last")
    hidden = {tuple(map(str, k)) for k in reviewed.loc[reviewed["status"] != "V", keys].fillna("").to_numpy().tolist()}
    return pd.Series([tuple(map(str, k)) in hidden for k in cells[keys].to_numpy().tolist()], index=cells.index)


def review_list(workspace: Workspace, year: int, *, user: str | None = None) -> pd.DataFrame:
    """The cells of ``year`` awaiting review, with what a reviewer needs, the decision in force
    and ``released_hidden`` (restricted: true sums; the access is checked and logged)."""
    user = user or acting_user(workspace.governance_path)
    _, cells = _read_cells(workspace, year, user, "review_cells")
    frame = with_decisions(cells, rd.load_decisions(workspace.restricted, year))
    frame["released_hidden"] = released_hidden(workspace, frame, year)
    return frame


def _decision_text(row: Any) -> str:
    if not row.decision:
        return "en attente"
    text = f"{row.decision} ({row.decision_user}, {str(row.decision_time)[:10]})"
    return f"PÉRIMÉE — {text}" if row.stale else text


HEADERS = ("Cellule", "Question", "Territoire", "Ventilation", "n", "Somme", "Positifs", "Négatifs",
           "Part max.", "Avis", "Décision")


def table_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """One row per cell, French labels (the text table and the XLSX sheet)."""
    rows = []
    for row in frame.itertuples(index=False):
        place = "France" if row.level == "national" else f"{LEVEL_LABELS.get(row.level, row.level)} " \
            f"{row.territory_name} ({row.territory})"
        rows.append([row.id, row.variable, place, f"{row.breakdown} = {row.category}" if row.breakdown else "total",
                     int(row.n), format_euros(row.sum), format_euros(row.positive), format_euros(row.negative),
                     format_percent(row.top_share), row.advice, _decision_text(row)])
    return rows


def render_list(frame: pd.DataFrame, year: int) -> str:
    """The French text table of :func:`review_list`."""
    if frame.empty:
        return f"Campagne {year} : aucune cellule à relire (statut R)."
    rows = [[str(c) for c in r] for r in table_rows(frame)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    pending = int((frame["decision"].eq("") | frame["stale"]).sum())
    if "released_hidden" in frame and frame["released_hidden"].any():
        lines.append(f"{format_number(int(frame['released_hidden'].sum()))} de ces cellules ont déjà été diffusées "
                     "masquées pour cette campagne : elles le restent dans toute nouvelle publication de la campagne "
                     "(registre des publications), quelle que soit la décision.")
    lines.append(f"Campagne {year} : {format_number(len(frame))} cellule(s) à relire, dont "
                 f"{format_number(pending)} sans décision en vigueur. Décider : « senacs secret decide --year {year} "
                 "--cell ID --publier|--masquer --motif … » ou « --selon-avis ».")
    return "\n".join(lines)


def write_list_xlsx(frame: pd.DataFrame, year: int, path: Path) -> Path:
    """The list as an owner-only XLSX sheet (restricted: true sums)."""
    from senacs_workbench.restricted.coherence.render import RESTRICTED_BANNER, write_xlsx

    preamble = [f"Cellules à relire (statut R) — campagne {year}", RESTRICTED_BANNER,
                "Avis : règles de dominance et du p % appliquées aux valeurs absolues des contributions."]
    return write_xlsx(path, "Cellules à relire", preamble, HEADERS, table_rows(frame),
                      widths=[16, 22, 28, 28, 6, 16, 16, 16, 10, 12, 34])


def decide(workspace: Workspace, year: int, cells: Sequence[str], decision: str | None, reason: str, *,
           follow_advice: bool = False, user: str | None = None) -> str:
    """Record a decision on ``cells`` (or, with ``follow_advice``, the advice on every listed cell
    without a decision in force, or on ``cells`` when given); French summary."""
    from senacs_workbench.core.workspace_lock import workspace_lock

    reason = reason.strip()
    if not reason:
        raise ReviewInputError("Indiquez le motif de la décision (--motif « … »).")
    if follow_advice == (decision is not None):
        raise ReviewInputError("Choisissez --publier, --masquer ou --selon-avis (une seule de ces options).")
    if not follow_advice and not cells:
        raise ReviewInputError("Indiquez la ou les cellules (--cell ID, voir « senacs secret list »).")
    user = user or acting_user(workspace.governance_path)
    with workspace_lock(workspace.root, f"la relecture des cellules de la campagne {year}"):
        version, listed = _read_cells(workspace, year, user, "review_decide")
        listed = with_decisions(listed, rd.load_decisions(workspace.restricted, year))
        unknown = sorted(set(cells) - set(listed["id"]))
        if unknown:
            raise ReviewInputError(f"Cellule(s) inconnue(s) ou sans relecture à faire pour la campagne {year} : "
                                   f"{', '.join(unknown)} (voir « senacs secret list --year {year} »).")
        chosen = listed[listed["id"].isin(list(cells))] if cells else listed[
            listed["decision"].eq("") | listed["stale"]]
        records = [_record(row, version, user, reason, decision, follow_advice) for row in chosen.itertuples()]
        added = rd.append_decisions(workspace.restricted, year, records)
        if added:
            audit_log.append(workspace.audit_log_path, user=user, action="review_decision",
                             territory=workspace.territory.key,
                             details={"year": year, "data_version": version,
                                      "decisions": {r["id"]: r["decision"] for r in added}})
    published = sum(r["decision"] == rd.PUBLISH for r in added)
    return (f"Campagne {year} : {len(added)} décision(s) enregistrée(s) ({published} « publier », "
            f"{len(added) - published} « masquer »). Elles s'appliquent à la prochaine publication "
            f"(« senacs publish --year {year} »).")


def _record(row: Any, version: int, user: str, reason: str, decision: str | None,
            follow_advice: bool) -> dict[str, Any]:
    chosen = (rd.PUBLISH if row.advice == ADVICE_PUBLISH else rd.SUPPRESS) if follow_advice else decision
    return {**{f: getattr(row, f) for f in rd.CELL_FIELDS}, "decision": chosen,
            "reason": reason + (f" (selon l'avis « {row.advice} »)" if follow_advice else ""), "user": user,
            "data_version": version, "sum": float(row.sum), "n": int(row.n), "fingerprint": row.fingerprint,
            "advice": row.advice}
