"""The vectorised coherence checks: one function per rule ``kind`` (a registry).

Each check takes a rule of the catalogue and the :class:`CheckData` of a run (the latest data
version in wide form, its respondents, and the reference data for comparisons over time) and
returns a frame of raw findings, one row per (structure, rule, questions): ``structure_id,
rule_id, severity, family, variables`` (tuple of question ids), ``values`` (dict, JSON-ready),
``values_text`` (French) and ``message`` (French, for the centre). Masks are computed on whole
columns; only the flagged rows are formatted.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import YES, Codebook
from senacs_workbench.core.formatting import NBSP, format_euros, format_number
from senacs_workbench.restricted.coherence.rules import Catalogue, PeerSettings, Rule
from senacs_workbench.restricted.coherence.values import display_value, json_value, number_text
from senacs_workbench.restricted.store.bounds import has_bounds, out_of_bounds

FINDING_COLUMNS = ("structure_id", "rule_id", "severity", "family", "variables", "values", "values_text", "message")


@dataclass(frozen=True)
class Reference:
    """Earlier answers to compare with: ``frame`` indexed by structure id."""

    label: str
    frame: pd.DataFrame


@dataclass
class CheckData:
    year: int
    codebook: Codebook
    frame: pd.DataFrame
    """One row per structure (index: structure id): geography, then one column per question."""
    references: list[Reference] = field(default_factory=list)
    respondent: pd.Series | None = None
    peers: PeerSettings | None = None
    """Peer-group settings (the catalogue's, set by :func:`evaluate`)."""
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    """Intermediate results shared by the rules of one run (the ``value_outlier`` scores)."""

    def __post_init__(self) -> None:
        if self.respondent is None:
            self.respondent = self.codebook.respondents(self.frame)

    def column(self, variable: str) -> pd.Series:
        if variable in self.frame.columns:
            return self.frame[variable]
        return pd.Series(np.nan, index=self.frame.index)

    def numeric(self, variable: str) -> pd.Series:
        return pd.to_numeric(self.column(variable), errors="coerce").astype(float)


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fmt(data: CheckData, variable: str, value: Any) -> str:
    question = data.codebook.question(variable) if variable in data.codebook else None
    return display_value(question, value)


def _label(data: CheckData, variable: str) -> str:
    return data.codebook.question(variable).label if variable in data.codebook else variable


def _finding(
    rule: Rule,
    data: CheckData,
    structure_id: str,
    variables: Sequence[str],
    values: dict[str, Any],
    extras: dict[str, str] | None = None,
    message: str | None = None,
    values_text: str | None = None,
) -> dict[str, Any]:
    shown = {v: _fmt(data, v, values.get(v)) for v in variables}
    texts = _SafeDict(shown)
    texts.update(extras or {})
    text = (message or rule.message).format_map(texts)
    described = values_text or " ; ".join(f"{_label(data, v)} : {shown[v]}" for v in variables)
    return {
        "structure_id": structure_id,
        "rule_id": rule.id,
        "severity": rule.severity,
        "family": rule.family,
        "variables": tuple(variables),
        "values": {k: json_value(v) for k, v in values.items()},
        "values_text": described,
        "message": text,
    }


def _row_values(data: CheckData, structure_id: str, variables: Sequence[str]) -> dict[str, Any]:
    row = data.frame.loc[structure_id]
    return {v: (row[v] if v in row.index else None) for v in variables}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


# ---------------------------------------------------------------------------- codebook rules


def check_range(rule: Rule, data: CheckData) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    skipped = set(rule.params.get("except") or ())
    for question in data.codebook.questions:
        if question.id in skipped or question.id not in data.frame.columns or not has_bounds(question):
            continue
        low, high = question.minimum, question.maximum
        if question.type.is_numeric:
            values = data.numeric(question.id)
        else:
            values = pd.to_datetime(data.column(question.id), errors="coerce")
        bad = out_of_bounds(question, values)
        for structure_id in values.index[bad.to_numpy()]:
            value = values.loc[structure_id]
            extras = {
                "question": question.label,
                "valeur": display_value(question, value),
                "minimum": "−∞" if low is None else display_value(question, low),
                "maximum": "+∞" if high is None else display_value(question, high),
            }
            rows.append(_finding(rule, data, structure_id, (question.id,), {question.id: value}, extras))
    return _frame(rows)


def check_required(rule: Rule, data: CheckData) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    assert data.respondent is not None
    for question in data.codebook.questions:
        if not question.required:
            continue
        missing = data.column(question.id).isna()
        if not question.is_identity:
            missing &= data.respondent
        for structure_id in data.frame.index[missing.to_numpy()]:
            rows.append(
                _finding(rule, data, structure_id, (question.id,), {question.id: None}, {"question": question.label})
            )
    return _frame(rows)


def check_amount_decimals(rule: Rule, data: CheckData) -> pd.DataFrame:
    """An amount with more decimals than money has (``decimals``, the cents): 12,345 € is no sum
    of money, it is thousands of euros typed as euros or a thousands separator read as a comma."""
    decimals = int(rule.params.get("decimals", 2))
    types = set(rule.params.get("types") or ("amount",))
    scale = 10.0**decimals
    rows: list[dict[str, Any]] = []
    for question in data.codebook.questions:
        if question.type.value not in types or question.id not in data.frame.columns:
            continue
        values = data.numeric(question.id)
        scaled = values * scale
        bad = (scaled - scaled.round()).abs() > 1e-6 * np.maximum(1.0, scaled.abs())
        for structure_id in values.index[bad.fillna(False).to_numpy(dtype=bool)]:
            value = float(values.loc[structure_id])
            extras = {"question": question.label,
                      "valeur": f"{format_number(value, _decimals_of(value))}{NBSP}€"}
            rows.append(_finding(rule, data, structure_id, (question.id,), {question.id: value}, extras,
                                 values_text=f"{question.label} : {extras['valeur']}"))
    return _frame(rows)


def _decimals_of(value: float, most: int = 6) -> int:
    """The decimals that ``value`` needs (at most ``most``)."""
    for decimals in range(most + 1):
        if abs(round(value, decimals) - value) < 1e-9 * max(1.0, abs(value)):
            return decimals
    return most


# ---------------------------------------------------------------------------- between questions


def check_compare(rule: Rule, data: CheckData) -> pd.DataFrame:
    left, right = rule.params["left"], rule.params["right"]
    tolerance = float(rule.params.get("tolerance", 0.0))
    a, b = data.numeric(left), data.numeric(right)
    bad = a.notna() & b.notna() & (a > b + tolerance)
    return _frame(
        [
            _finding(rule, data, sid, (left, right), _row_values(data, sid, (left, right)))
            for sid in data.frame.index[bad.to_numpy()]
        ]
    )


def check_share_bounds(rule: Rule, data: CheckData) -> pd.DataFrame:
    """A share above ``maximum`` or outside its codebook bounds (``range`` leaves it to this rule:
    every excluded value is raised, a negative share too), or above 0 without a ``base``."""
    share, base = rule.params["share"], rule.params.get("base")
    maximum = float(rule.params.get("maximum", 100))
    values = data.numeric(share)
    bad = values.notna() & (values > maximum)
    if share in data.codebook:
        bad |= out_of_bounds(data.codebook.question(share), values)
    variables: tuple[str, ...] = (share,)
    if base:
        counts = data.numeric(base)
        bad |= values.notna() & (values > 0) & (counts == 0)
        variables = (share, base)
    return _frame(
        [
            _finding(rule, data, sid, variables, _row_values(data, sid, variables))
            for sid in data.frame.index[bad.to_numpy()]
        ]
    )


def check_sum_to_constant(rule: Rule, data: CheckData) -> pd.DataFrame:
    parts = pd.concat([data.numeric(v) for v in rule.questions], axis=1)
    target = float(rule.params.get("target", 100))
    tolerance = float(rule.params.get("tolerance", 1.0))
    total = parts.sum(axis=1, min_count=1)
    complete = parts.notna().all(axis=1)
    some = parts.notna().any(axis=1)
    bad = (complete & ((total - target).abs() > tolerance)) | (some & ~complete & (total > target + tolerance))
    rows = []
    for sid in data.frame.index[bad.to_numpy()]:
        extras = {"total": f"{number_text(float(total.loc[sid]))}{NBSP}%"}
        values = _row_values(data, sid, rule.questions)
        rows.append(_finding(rule, data, sid, rule.questions, values, extras))
    return _frame(rows)


def check_sum_to_total(rule: Rule, data: CheckData) -> pd.DataFrame:
    total_var = rule.params["total"]
    sources = [q for q in rule.questions if q != total_var]
    amounts = pd.concat([data.numeric(v) for v in sources], axis=1)
    total = data.numeric(total_var)
    summed = amounts.sum(axis=1, min_count=1)
    gap = summed - total
    tolerance = np.maximum(
        float(rule.params.get("relative_tolerance", 0.05)) * total.abs(),
        float(rule.params.get("absolute_tolerance", 0)),
    )
    bad = summed.notna() & total.notna() & (gap.abs() > tolerance)
    rows = []
    for sid in data.frame.index[bad.to_numpy()]:
        budget = float(total.loc[sid])
        relative = gap.loc[sid] / budget if budget else np.nan
        direction = "supérieure" if gap.loc[sid] > 0 else "inférieure"
        amount = (
            f"{format_number(abs(relative) * 100)}{NBSP}%"
            if np.isfinite(relative)
            else format_euros(abs(float(gap.loc[sid])))
        )
        ecart = f"{direction} de {amount}"
        extras = {"total": format_euros(float(summed.loc[sid])), "ecart": ecart}
        rows.append(_finding(rule, data, sid, rule.questions, _row_values(data, sid, rule.questions), extras))
    return _frame(rows)


def check_action_participants(rule: Rule, data: CheckData) -> pd.DataFrame:
    rows = []
    for action, participants in rule.params["pairs"]:
        does = data.column(action)
        count = data.numeric(participants)
        known = does.notna() & count.notna()
        yes_without = known & (does == YES) & (count == 0)
        no_with = known & (does != YES) & (count > 0)
        for mask, template in ((yes_without, rule.extra.get("message_oui")), (no_with, rule.extra.get("message_non"))):
            for sid in data.frame.index[mask.to_numpy()]:
                values = _row_values(data, sid, (action, participants))
                extras = {
                    "action": _label(data, action),
                    "participants": _fmt(data, participants, values[participants]),
                }
                rows.append(_finding(rule, data, sid, (action, participants), values, extras, message=template))
    return _frame(rows)


# ---------------------------------------------------------------------------- over time


def check_evolution(rule: Rule, data: CheckData) -> pd.DataFrame:
    variable = rule.params["variable"]
    up, down = float(rule.params["up"]), float(rule.params["down"])
    minimum = float(rule.params.get("min_previous", 0))
    current = data.numeric(variable)
    rows: list[dict[str, Any]] = []
    done: set[str] = set()
    for reference in data.references:
        if variable not in reference.frame.columns:
            continue
        before = pd.to_numeric(reference.frame[variable], errors="coerce").reindex(current.index).astype(float)
        ratio = current / before
        bad = current.notna() & before.notna() & (before >= minimum) & ((ratio >= up) | (ratio <= down))
        for sid in current.index[bad.to_numpy()]:
            if sid in done:
                continue
            done.add(sid)
            now, then = float(current.loc[sid]), float(before.loc[sid])
            factor = now / then
            extras = {
                "avant": _fmt(data, variable, then),
                "apres": _fmt(data, variable, now),
                "reference": reference.label,
                "facteur": f"multiplié par {format_number(factor, 1)}"
                if factor >= 1
                else ("réduit à zéro" if factor == 0 else f"divisé par {format_number(1 / factor, 1)}"),
            }
            values = {variable: now, "valeur_precedente": then, "reference": reference.label}
            text = f"{_label(data, variable)} : {extras['apres']} ; {reference.label} : {extras['avant']}"
            rows.append(_finding(rule, data, sid, (variable,), values, extras, values_text=text))
    return _frame(rows)


# ---------------------------------------------------------------------------- among peers

_TYPE_PLURAL = {"CS": "centres sociaux", "EVS": "espaces de vie sociale"}


def size_classes(salaries: pd.Series, peers: PeerSettings) -> pd.Series:
    bins = [*peers.size_bins, np.inf]
    classes = pd.cut(salaries, bins=bins, right=False, labels=list(peers.size_labels))
    return classes.astype(object).where(classes.notna(), "?")


def _group_text(level: Sequence[str], row: pd.Series) -> str:
    kind = _TYPE_PLURAL.get(str(row.get("type_structure")), "structures")
    parts = [kind]
    if "taille" in level:
        parts.append(str(row["taille"]))
    if "departement" in level:
        try:
            parts.append(f"du département {geo.territory('departement', str(row['departement'])).name}")
        except ValueError:
            parts.append(f"du département {row['departement']}")
    elif "region" in level:
        try:
            parts.append(f"de la région {geo.territory('region', str(row['region'])).name}")
        except ValueError:
            parts.append(f"de la région {row['region']}")
    else:
        parts.append("du territoire")
    return " ".join(parts)


def _peer_statistics(frame: pd.DataFrame, peers: PeerSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``frame`` (column ``x`` and the peer keys): the median and median absolute
    deviation of ``x`` in its peer group — the first level of ``peers.levels`` with at least
    ``peers.min_peers`` rows — and that level's number (-1: no group large enough)."""
    x = frame["x"].to_numpy()
    median = np.full(len(frame), np.nan)
    mad = np.full(len(frame), np.nan)
    chosen = np.full(len(frame), -1)
    for number, level in enumerate(peers.levels):
        keys = [frame[c] for c in level]
        grouped = frame.groupby(keys, sort=False)["x"]
        count = grouped.transform("size").to_numpy()
        med = grouped.transform("median").to_numpy()
        dev = pd.Series(np.abs(x - med), index=frame.index).groupby(keys, sort=False).transform("median").to_numpy()
        take = (chosen < 0) & (count >= peers.min_peers)
        median = np.where(take, med, median)
        mad = np.where(take, dev, mad)
        chosen = np.where(take, number, chosen)
    return median, mad, chosen


def check_peer_outlier(rule: Rule, data: CheckData) -> pd.DataFrame:
    peers = data.peers
    if peers is None:
        raise ValueError("peer settings missing: run the checks through evaluate()")
    num_var, den_var = rule.params["numerator"], rule.params["denominator"]
    z_limit, factor = float(rule.params.get("z", 4.0)), float(rule.params.get("factor", 2.0))
    numerator, denominator = data.numeric(num_var), data.numeric(den_var)
    valid = numerator.notna() & denominator.notna() & (denominator > 0) & (numerator > 0)
    if not valid.any():
        return _frame([])
    frame = pd.DataFrame(
        {
            "x": np.log(numerator[valid] / denominator[valid]),
            "departement": data.column("departement")[valid].fillna("?").astype(str),
            "region": data.column("region")[valid].fillna("?").astype(str),
            "type_structure": data.column("type_structure")[valid].fillna("?").astype(str),
            "taille": size_classes(data.numeric(peers.size_variable)[valid], peers),
        }
    )
    x = frame["x"].to_numpy()
    median, mad, chosen = _peer_statistics(frame, peers)
    scale = np.maximum(1.4826 * mad, peers.mad_floor)
    z = pd.Series((x - median) / scale, index=frame.index)
    bad = (chosen >= 0) & (np.abs(z.to_numpy()) > z_limit) & (np.abs(x - median) > np.log(factor))
    median = pd.Series(median, index=frame.index)
    chosen = pd.Series(chosen, index=frame.index)
    rows = []
    unit = rule.params.get("unit", "")
    for sid in frame.index[bad]:
        ratio, typical = float(np.exp(frame.at[sid, "x"])), float(np.exp(median.loc[sid]))
        show = format_euros if unit == "euros" else (lambda v: format_number(v, 1 if v < 10 else 0))
        level = peers.levels[int(chosen.loc[sid])]
        extras = {"ratio": show(ratio), "mediane": show(typical), "groupe": _group_text(level, frame.loc[sid])}
        values = _row_values(data, sid, (num_var, den_var))
        values.update({"ratio": ratio, "mediane_pairs": typical, "score_robuste": float(z.loc[sid])})
        rows.append(_finding(rule, data, sid, (num_var, den_var), values, extras))
    return _frame(rows)


# ---------------------------------------------------------------------------- every quantitative question


OUTLIER_MODES = ("peers", "over_time", "extra_zero", "swapped")
"""The ways a ``value_outlier`` rule can flag an answer (its ``modes``, all by default)."""


def outlier_questions(rule: Rule, codebook: Codebook) -> list[str]:
    """The quantitative questions that a ``value_outlier`` rule looks at (its ``types``, minus ``except``)."""
    types = set(rule.params.get("types") or ("count", "amount", "decimal", "percent"))
    skipped = set(rule.params.get("except") or ())
    return [q.id for q in codebook.questions if q.type.is_numeric and q.type.value in types and q.id not in skipped]


def _robust_scale(values: pd.Series, floor: float) -> float:
    centred = values - values.median()
    mad = float(centred.abs().median()) if values.notna().any() else 0.0
    return max(1.4826 * mad, floor)


def _previous(data: CheckData, variable: str, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Each structure's earlier answer to ``variable`` (the first reference that has one) and its label."""
    before = pd.Series(np.nan, index=index)
    label = pd.Series(None, index=index, dtype=object)
    for reference in data.references:
        if variable not in reference.frame.columns:
            continue
        values = pd.to_numeric(reference.frame[variable], errors="coerce").reindex(index).astype(float)
        take = before.isna() & values.notna()
        before = before.where(~take, values)
        label = label.where(~take, reference.label)
    return before, label


@dataclass(frozen=True)
class _Scores:
    """One question's scores (aligned with the structures)."""

    current: pd.Series
    corrected: pd.Series
    """Log deviation from the peers, the structure's own level taken off."""
    peer_score: pd.Series
    peer_scale: float
    before: pd.Series
    reference: pd.Series
    jump: pd.Series
    yoy_score: pd.Series
    yoy_scale: float
    expected: pd.Series
    """The typical answer for this structure (its peers', at its size and own level)."""
    level: pd.Series
    """The peer level used (-1: no group large enough)."""


@dataclass(frozen=True)
class _OutlierScores:
    keys: pd.DataFrame
    questions: dict[str, _Scores]


_SHARED = ("types", "except", "size", "size_of_size", "normalised_types", "own_level_types", "min_questions",
           "floor", "yoy_floor")
"""The ``value_outlier`` settings that the scores depend on (the rules sharing them share the scores)."""


def _peer_keys(data: CheckData, peers: PeerSettings) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "departement": data.column("departement").fillna("?").astype(str),
            "region": data.column("region").fillna("?").astype(str),
            "type_structure": data.column("type_structure").fillna("?").astype(str),
            "taille": size_classes(data.numeric(peers.size_variable), peers),
        },
        index=data.frame.index,
    )


def _peer_medians(x: np.ndarray, codes: list[np.ndarray], min_peers: int) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_peer_statistics` (medians and levels only), on each level's group numbers."""
    median = np.full(len(x), np.nan)
    chosen = np.full(len(x), -1)
    for number, groups in enumerate(codes):
        series = pd.Series(x)
        grouped = series.groupby(groups, sort=False)
        count = grouped.transform("size").to_numpy()
        take = (chosen < 0) & (count >= min_peers)
        if take.any():
            median = np.where(take, grouped.transform("median").to_numpy(), median)
            chosen = np.where(take, number, chosen)
        if (chosen >= 0).all():
            break
    return median, chosen


def _outlier_scores(rule: Rule, data: CheckData, peers: PeerSettings) -> _OutlierScores:
    """Every question's scores (see :func:`check_value_outlier`), computed once per run for the
    rules that share the same settings."""
    params = rule.params
    key = ("value_outlier", repr([params.get(k) for k in _SHARED]))
    cached = data.cache.get(key)
    if isinstance(cached, _OutlierScores):
        return cached
    size_variable = str(params.get("size", "budget_total"))
    normalised_types = set(params.get("normalised_types") or ("count", "amount", "decimal"))
    own_types = set(params.get("own_level_types") or normalised_types)
    index = data.frame.index
    keys = _peer_keys(data, peers)
    codes = [keys.groupby(list(level), sort=False).ngroup().to_numpy() for level in peers.levels]
    log_size = np.log(data.numeric(size_variable).where(data.numeric(size_variable) > 0))
    size_of_size = data.numeric(str(params.get("size_of_size", size_variable)))
    log_size_of_size = np.log(size_of_size.where(size_of_size > 0))
    deviation: dict[str, pd.Series] = {}
    centre: dict[str, pd.Series] = {}
    level: dict[str, pd.Series] = {}
    own_questions: list[str] = []
    for variable in [q for q in outlier_questions(rule, data.codebook) if q in data.frame.columns]:
        kind = data.codebook.question(variable).type.value
        values = data.numeric(variable)
        scaled = kind in normalised_types
        divisor = log_size_of_size if variable == size_variable else log_size
        x = np.log(values.where(values > 0)) - (divisor if scaled else 0.0)
        valid = x.notna()
        if not valid.any():
            continue
        median, chosen = _peer_medians(x[valid].to_numpy(), [c[valid.to_numpy()] for c in codes], peers.min_peers)
        median_series = pd.Series(median, index=x.index[valid]).reindex(index)
        deviation[variable] = x - median_series
        centre[variable] = median_series + (divisor if scaled else 0.0)
        level[variable] = pd.Series(chosen, index=x.index[valid]).reindex(index).fillna(-1)
        if scaled and kind in own_types and variable != size_variable:
            own_questions.append(variable)
    deviations = pd.DataFrame(deviation, index=index)
    own = pd.Series(0.0, index=index)
    if own_questions:
        enough = deviations[own_questions].notna().sum(axis=1) >= int(params.get("min_questions", 5))
        own = deviations[own_questions].median(axis=1).where(enough, 0.0).fillna(0.0)
    floor, yoy_floor = float(params.get("floor", 0.1)), float(params.get("yoy_floor", 0.15))
    questions: dict[str, _Scores] = {}
    for variable in deviations.columns:
        shift = own if variable in own_questions else 0.0
        corrected = deviations[variable] - shift
        peer_scale = _robust_scale(corrected, floor)
        current = data.numeric(variable)
        before, reference = _previous(data, variable, index)
        jump = np.log(current.where(current > 0) / before.where(before > 0))
        yoy_scale = _robust_scale(jump, yoy_floor)
        questions[variable] = _Scores(
            current, corrected, corrected / peer_scale, peer_scale, before, reference, jump,
            (jump - jump.median()) / yoy_scale, yoy_scale, np.exp(centre[variable] + shift), level[variable],
        )
    scores = _OutlierScores(keys, questions)
    data.cache[key] = scores
    return scores


def _strong_signal(scores: _Scores, z_peer: float, z_yoy: float, z_confirm: float, factor: float,
                   yoy_factor: float) -> tuple[pd.Series, pd.Series]:
    """(far from the peers, jump confirmed by the peers) masks at these thresholds."""
    by_peers = (scores.peer_score.abs() > z_peer) & (scores.corrected.abs() > np.log(factor)) & (scores.level >= 0)
    over_time = (
        (scores.yoy_score.abs() > z_yoy) & (scores.jump.abs() > np.log(yoy_factor))
        & (np.sign(scores.yoy_score) == np.sign(scores.peer_score)) & (scores.peer_score.abs() > z_confirm)
    )
    return by_peers.fillna(False).astype(bool), over_time.fillna(False).astype(bool)


def _squares(peer: pd.Series, yoy: pd.Series) -> pd.Series:
    """The sum of squared scores of an answer: its peer score, and its year-over-year score when
    it has a previous answer (the evidence, on both axes, that the answer is atypical)."""
    return peer**2 + (yoy**2).fillna(0.0)


def _extra_zero(scores: _Scores, gain: float) -> pd.Series:
    """A multiple of ten whose tenth would be much more typical: dividing it by ten lowers the
    sum of its squared scores (peers and year over year) by more than ``gain``."""
    ten = np.log(10.0)
    tens = (scores.current >= 10) & (scores.current % 10 == 0)
    as_entered = _squares(scores.peer_score, scores.yoy_score)
    divided = _squares(scores.peer_score - ten / scores.peer_scale, scores.yoy_score - ten / scores.yoy_scale)
    mask = tens & (as_entered - divided > gain)
    return mask.fillna(False).astype(bool)


def _outlier_finding(rule: Rule, data: CheckData, peers: PeerSettings, keys: pd.DataFrame, variable: str,
                     scores: _Scores, sid: str) -> dict[str, Any]:
    question = data.codebook.question(variable)
    expected = float(scores.expected.loc[sid])
    peer_level = int(scores.level.loc[sid])
    group = _group_text(peers.levels[peer_level], keys.loc[sid]) if peer_level >= 0 else "structures du territoire"
    previous = scores.before.loc[sid]
    evolution = (
        f" ; elle était de {display_value(question, float(previous))} ({scores.reference.loc[sid]})"
        if pd.notna(previous) else ""
    )
    extras = {
        "question": question.label,
        "valeur": display_value(question, float(scores.current.loc[sid])),
        "attendu": display_value(question, expected),
        "groupe": group,
        "evolution": evolution,
    }
    values = {variable: float(scores.current.loc[sid]), "attendu": expected,
              "score_pairs": float(scores.peer_score.loc[sid])}
    if pd.notna(previous):
        values.update({"valeur_precedente": float(previous), "score_evolution": float(scores.yoy_score.loc[sid])})
    return _finding(rule, data, sid, (variable,), values, extras)


def check_value_outlier(rule: Rule, data: CheckData) -> pd.DataFrame:
    """Every quantitative answer against its peers and against the structure's previous answer.

    Peer-relative: the answer's logarithm, divided by the structure's size (``size``, the budget;
    the size itself by ``size_of_size``, the FTEs) for the ``normalised_types``, minus the median
    of its peer group (the catalogue's peer levels); for the ``own_level_types`` (counts), the
    structure's own level (median of these deviations over its answers of those types, when it
    has ``min_questions``) is taken off, so that a wrong budget or a busy centre does not flag
    every count; the rest is divided by the question's robust spread. Year over year:
    the log-ratio to the previous answer, centred and divided by its robust spread. An answer is
    flagged when the peer score passes ``z_peer`` (and the gap ``factor``), or when the
    year-over-year score passes ``z_yoy`` (and the jump ``yoy_factor``) with a peer score of the
    same sign above ``z_confirm``, or — the signature of an extra zero — when a multiple of ten
    would be much more typical divided by ten: the sum of its squared scores (peer, and year over
    year when it has a previous answer) falls by more than ``extra_zero_gain``. (The rule's
    ``modes`` name which of these ways, ``peers``, ``over_time``, ``extra_zero``, ``swapped``, it
    uses; ``strong``, the thresholds ``z_peer``, ``z_yoy``, ``z_confirm`` of a stronger rule whose
    answers it leaves alone.) Two consecutive questions of a section (same type) are flagged as
    swapped when their answers differ ``swap_factor``-fold and the summed squared scores of both
    (peers, and year over year when both have a previous answer) fall by more than ``swap_gain``
    once swapped back (one finding naming both, message ``message_interverties``). Zero
    answers are not scored (no logarithm).
    """
    peers = data.peers
    if peers is None:
        raise ValueError("peer settings missing: run the checks through evaluate()")
    params = rule.params
    modes = set(params.get("modes") or OUTLIER_MODES)
    z_confirm = float(params.get("z_confirm", 0.0))
    factor, yoy_factor = float(params.get("factor", 1.0)), float(params.get("yoy_factor", 1.0))
    strong = {k: float(v) for k, v in (params.get("strong") or {}).items()}
    computed = _outlier_scores(rule, data, peers)
    rows: list[dict[str, Any]] = []
    for variable, scores in computed.questions.items():
        by_peers, over_time = _strong_signal(scores, float(params.get("z_peer", np.inf)),
                                             float(params.get("z_yoy", np.inf)), z_confirm, factor, yoy_factor)
        flagged = pd.Series(False, index=data.frame.index)
        if "peers" in modes:
            flagged |= by_peers
        if "over_time" in modes:
            flagged |= over_time
        if "extra_zero" in modes:
            flagged |= _extra_zero(scores, float(params.get("extra_zero_gain", np.inf)))
        if strong:  # left to the stronger rule (an alert), not raised twice
            left = _strong_signal(scores, strong["z_peer"], strong["z_yoy"], strong["z_confirm"], factor, yoy_factor)
            flagged &= ~(left[0] | left[1])
        for sid in data.frame.index[flagged.to_numpy(dtype=bool)]:
            rows.append(_outlier_finding(rule, data, peers, computed.keys, variable, scores, sid))
    if "swapped" in modes:
        rows += _swapped(rule, data, computed)
    return _frame(rows)


def _swapped(rule: Rule, data: CheckData, computed: _OutlierScores) -> list[dict[str, Any]]:
    """The swapped pairs of consecutive questions (see :func:`check_value_outlier`)."""
    peers = data.peers
    assert peers is not None
    gain = float(rule.params.get("swap_gain", np.inf))
    swap_factor = float(rule.params.get("swap_factor", 3.0))
    ordered = [q for q in data.codebook.questions if q.id in computed.questions]
    rows: list[dict[str, Any]] = []
    for first, second in itertools.pairwise(ordered):
        if first.section != second.section or first.type != second.type:
            continue
        one, two = computed.questions[first.id], computed.questions[second.id]
        gap = np.log(two.current.where(two.current > 0) / one.current.where(one.current > 0))
        as_entered = _squares(one.peer_score, one.yoy_score) + _squares(two.peer_score, two.yoy_score)
        back = _squares(one.peer_score + gap / one.peer_scale, _swapped_jump(one, two)) + _squares(
            two.peer_score - gap / two.peer_scale, _swapped_jump(two, one))
        history = one.yoy_score.notna() & two.yoy_score.notna()
        # without both previous answers, the peers alone weigh the two readings
        as_entered = as_entered.where(history, one.peer_score**2 + two.peer_score**2)
        back = back.where(history, (one.peer_score + gap / one.peer_scale) ** 2
                          + (two.peer_score - gap / two.peer_scale) ** 2)
        bad = ((as_entered - back > gain) & (gap.abs() > np.log(swap_factor))).fillna(False).to_numpy(dtype=bool)
        for sid in data.frame.index[bad]:
            expected = (float(one.expected.loc[sid]), float(two.expected.loc[sid]))
            peer_level = int(one.level.loc[sid])
            extras = {
                "question": first.label,
                "valeur": display_value(first, float(one.current.loc[sid])),
                "question_suivante": second.label,
                "valeur_suivante": display_value(second, float(two.current.loc[sid])),
                "attendu": display_value(first, expected[0]),
                "attendu_suivante": display_value(second, expected[1]),
                "groupe": (_group_text(peers.levels[peer_level], computed.keys.loc[sid]) if peer_level >= 0
                           else "structures du territoire"),
            }
            values = {first.id: float(one.current.loc[sid]), second.id: float(two.current.loc[sid]),
                      "attendu": expected[0], "attendu_suivante": expected[1]}
            rows.append(_finding(rule, data, sid, (first.id, second.id), values, extras,
                                 message=rule.extra.get("message_interverties")))
    return rows


def _swapped_jump(scores: _Scores, other: _Scores) -> pd.Series:
    """The year-over-year score of ``scores``' question if its answer were ``other``'s."""
    jump = np.log(other.current.where(other.current > 0) / scores.before.where(scores.before > 0))
    return (jump - scores.jump.median()) / scores.yoy_scale


CheckFunction = Callable[[Rule, CheckData], pd.DataFrame]
CHECKS: dict[str, CheckFunction] = {
    "range": check_range,
    "required": check_required,
    "amount_decimals": check_amount_decimals,
    "compare": check_compare,
    "share_bounds": check_share_bounds,
    "sum_to_constant": check_sum_to_constant,
    "sum_to_total": check_sum_to_total,
    "action_participants": check_action_participants,
    "evolution": check_evolution,
    "peer_outlier": check_peer_outlier,
    "value_outlier": check_value_outlier,
}


def evaluate(catalogue: Catalogue, data: CheckData, rule_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Run every check rule of ``catalogue`` (or those of ``rule_ids``) on ``data``."""
    data.peers = catalogue.peers
    frames = []
    for rule in catalogue.check_rules:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        found = CHECKS[rule.kind](rule, data)
        if len(found):
            frames.append(found)
    if not frames:
        return _frame([])
    return (
        pd.concat(frames, ignore_index=True)
        .sort_values(["structure_id", "rule_id"], kind="stable")
        .reset_index(drop=True)
    )
