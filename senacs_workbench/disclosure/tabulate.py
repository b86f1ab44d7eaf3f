"""Microdata → every cell of every view released together, with true values.

A *group* is one (level, territory, breakdown, category) — e.g. the CAF-managed structures of
département 23 — and every cell of the cell table is one statistic of one group. The
:class:`Layout` (groups, their member structures and the *inner cells*: the finest partition
of the structures by every grouping released together) depends only on the public identity
data of the structures, so it is computed once per microdata layout and cached.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from senacs_workbench.core.codebook import (
    DERIVED_BREAKDOWNS,
    MULTIPLE_CHOICE_SEPARATOR,
    Question,
    QuestionType,
    load_codebook,
)
from senacs_workbench.core.errors import InputError
from senacs_workbench.disclosure.cells import (
    COUNT,
    MEAN,
    MEDIAN,
    NATIONAL_CODE,
    Q1,
    Q3,
    RESPONDENTS,
    RESPONSE_RATE,
    SHARE,
    STRUCTURES,
    SUM,
    ReleaseSpec,
)

LEVEL_ORDER = ("national", "region", "departement", "epci", "commune")
MISSING_CATEGORY = "non_renseigne"
"""Category of a structure whose breakdown value is missing (keeps total = Σ categories)."""

QUANTILES = ((MEDIAN, 0.5), (Q1, 0.25), (Q3, 0.75))


class TabulationError(InputError):
    """Microdata that cannot be tabulated (message in French)."""


def _as_code(series: pd.Series) -> np.ndarray:
    out = series.astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return np.asarray(out, dtype=object)


@dataclass(frozen=True)
class Relation:
    """parent = Σ children: a published-margin relation (breakdown margin or hierarchy)."""

    parent: int
    children: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """Groups and inner cells of one release (depends on identity data only)."""

    keys: pd.DataFrame  # level, territory, breakdown, category (row i = group i)
    level: np.ndarray  # level name per group
    is_total: np.ndarray  # breakdown == ''
    membership: sp.csr_matrix  # groups × structures (0/1)
    structure_ids: np.ndarray
    inner_of: np.ndarray  # structure index → inner cell index
    n_inner: int
    inner_groups: sp.csr_matrix  # groups × inner cells (0/1)
    inner_region: np.ndarray  # région code per inner cell
    inner_departement: np.ndarray  # département code per inner cell
    relations: tuple[Relation, ...]
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_groups(self) -> int:
        return int(self.membership.shape[0])


def _categories(year: int, breakdown: str, observed: np.ndarray) -> list[str]:
    known: list[str] = []
    try:
        codebook = load_codebook(year)
        if breakdown in codebook or breakdown in DERIVED_BREAKDOWNS:
            known = list(codebook.question(breakdown).answer_codes)
    except ValueError:
        known = []
    extra = sorted(set(observed.tolist()) - set(known) - {""})
    cats = known + extra
    if (observed == "").any():
        cats.append(MISSING_CATEGORY)
    return cats


def _territory_codes(microdata: pd.DataFrame, level: str) -> np.ndarray:
    if level == "national":
        return np.full(len(microdata), NATIONAL_CODE, dtype=object)
    return _as_code(microdata[level])


_LAYOUT_CACHE: OrderedDict[str, Layout] = OrderedDict()
_LAYOUT_CACHE_SIZE = 8


def _layout_key(microdata: pd.DataFrame, year: int, levels: tuple[str, ...], by_level: dict[str, tuple[str, ...]]
                ) -> str:
    cols = ["structure_id", "region", "departement", *[c for c in ("epci", "commune") if c in levels]]
    cols += sorted({b for bds in by_level.values() for b in bds})
    hashed = pd.util.hash_pandas_object(microdata[cols].astype("string"), index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(repr((year, levels, sorted(by_level.items()))).encode())
    return digest.hexdigest()


def release_levels(microdata: pd.DataFrame, spec: ReleaseSpec) -> tuple[str, ...]:
    levels = []
    for level in LEVEL_ORDER:
        if level not in spec.levels:
            continue
        if level in ("region", "departement", "epci", "commune") and level not in microdata.columns:
            if level in ("epci", "commune"):
                raise TabulationError(
                    f"Le niveau « {level} » est demandé mais la colonne « {level} » manque dans les microdonnées."
                )
            raise TabulationError(f"Colonne « {level} » manquante dans les microdonnées.")
        levels.append(level)
    return tuple(levels)


def build_layout(microdata: pd.DataFrame, year: int, spec: ReleaseSpec) -> Layout:
    """Groups of every view of ``spec`` and the inner cells of the microdata (cached)."""
    missing = [c for c in ("structure_id", "region", "departement", *spec.all_breakdowns) if c not in microdata]
    if missing:
        raise TabulationError(f"Colonnes manquantes dans les microdonnées : {', '.join(missing)}.")
    levels = release_levels(microdata, spec)
    by_level = {level: tuple(spec.breakdowns_at(level)) for level in levels}
    key = _layout_key(microdata, year, levels, by_level)
    cached = _LAYOUT_CACHE.get(key)
    if cached is not None:
        _LAYOUT_CACHE.move_to_end(key)
        return cached
    layout = _build_layout(microdata, year, levels, by_level)
    _LAYOUT_CACHE[key] = layout
    while len(_LAYOUT_CACHE) > _LAYOUT_CACHE_SIZE:
        _LAYOUT_CACHE.popitem(last=False)
    return layout


def _build_layout(
    microdata: pd.DataFrame, year: int, levels: tuple[str, ...], by_level: dict[str, tuple[str, ...]]
) -> Layout:
    """``by_level``: the breakdowns crossed at each level (infra levels usually have fewer)."""
    breakdowns = tuple(dict.fromkeys(b for level in levels for b in by_level[level]))
    n_struct = len(microdata)
    structure_ids = _as_code(microdata["structure_id"])
    if len(set(structure_ids.tolist())) != n_struct:
        raise TabulationError("Identifiants de structure en double dans les microdonnées.")
    terr = {level: _territory_codes(microdata, level) for level in levels}
    cats_of: dict[str, np.ndarray] = {}
    categories: dict[str, list[str]] = {}
    for b in breakdowns:
        codes = _as_code(microdata[b])
        categories[b] = _categories(year, b, codes)
        cats_of[b] = np.where(codes == "", MISSING_CATEGORY, codes)

    rows: list[tuple[str, str, str, str]] = []
    index: dict[tuple[str, str, str, str], int] = {}
    for level in levels:
        codes = terr[level]
        present = sorted({c for c in codes.tolist() if c})
        for t in present:
            for b, cats in (("", [""]), *((b, categories[b]) for b in by_level[level])):
                for c in cats:
                    index[(level, t, b, c)] = len(rows)
                    rows.append((level, t, b, c))
    keys = pd.DataFrame(rows, columns=["level", "territory", "breakdown", "category"])

    row_idx: list[np.ndarray] = []
    col_idx: list[np.ndarray] = []
    all_structs = np.arange(n_struct)
    for level in levels:
        codes = terr[level]
        has = codes != ""
        for b in ("", *by_level[level]):
            cat = np.full(n_struct, "", dtype=object) if b == "" else cats_of[b]
            gid = np.fromiter(
                (index.get((level, t, b, c), -1) if h else -1 for t, c, h in zip(codes, cat, has, strict=True)),
                dtype=np.int64,
                count=n_struct,
            )
            ok = gid >= 0
            row_idx.append(gid[ok])
            col_idx.append(all_structs[ok])
    r = np.concatenate(row_idx)
    cols = np.concatenate(col_idx)
    membership = sp.csr_matrix((np.ones(len(r)), (r, cols)), shape=(len(rows), n_struct))

    inner_cols = ["departement", *[lv for lv in ("epci", "commune") if lv in levels]]
    inner_frame = pd.DataFrame({col: terr.get(col, _as_code(microdata[col])) for col in inner_cols})
    for b in breakdowns:
        inner_frame[b] = cats_of[b]
    inner_frame["region"] = _as_code(microdata["region"])
    inner_of = inner_frame.groupby([*inner_cols, *breakdowns], sort=True).ngroup().to_numpy()
    n_inner = int(inner_of.max()) + 1 if n_struct else 0
    onehot = sp.csr_matrix((np.ones(n_struct), (np.arange(n_struct), inner_of)), shape=(n_struct, n_inner))
    inner_groups = (membership @ onehot).tocsr()
    inner_groups.data[:] = 1.0
    inner_region = np.empty(n_inner, dtype=object)
    inner_region[inner_of] = inner_frame["region"].to_numpy()
    inner_departement = np.empty(n_inner, dtype=object)
    inner_departement[inner_of] = inner_frame["departement"].to_numpy()

    relations = _relations(keys, index, levels, by_level, categories, terr)
    return Layout(
        keys=keys,
        level=keys["level"].to_numpy(dtype=object),
        is_total=(keys["breakdown"] == "").to_numpy(),
        membership=membership,
        structure_ids=structure_ids,
        inner_of=inner_of,
        n_inner=n_inner,
        inner_groups=inner_groups,
        inner_region=inner_region,
        inner_departement=inner_departement,
        relations=relations,
    )


def _relations(
    keys: pd.DataFrame,
    index: dict[tuple[str, str, str, str], int],
    levels: tuple[str, ...],
    by_level: dict[str, tuple[str, ...]],
    categories: dict[str, list[str]],
    terr: dict[str, np.ndarray],
) -> tuple[Relation, ...]:
    """Explicit margin and (nested) hierarchy relations, for the dominated-union check."""
    relations: list[Relation] = []
    for level in levels:
        present = sorted({c for c in terr[level].tolist() if c})
        for t in present:
            parent = index[(level, t, "", "")]
            for b in by_level[level]:
                children = tuple(index[(level, t, b, c)] for c in categories[b])
                relations.append(Relation(parent, children))
    nested = [("national", "region"), ("region", "departement"), ("departement", "commune"), ("epci", "commune")]
    for upper, lower in nested:
        if upper not in levels or lower not in levels:
            continue
        parent_of: dict[str, str] = {}
        for up, low in zip(terr[upper].tolist(), terr[lower].tolist(), strict=True):
            if up and low:
                parent_of.setdefault(low, up)
        kids: dict[str, list[str]] = {}
        for low, up in sorted(parent_of.items()):
            kids.setdefault(up, []).append(low)
        common = [b for b in by_level[upper] if b in by_level[lower]]
        for up, lows in sorted(kids.items()):
            for b, cats in (("", [""]), *((b, categories[b]) for b in common)):
                for c in cats:
                    parent = index[(upper, up, b, c)]
                    children = tuple(index[(lower, low, b, c)] for low in lows)
                    relations.append(Relation(parent, children))
    return tuple(relations)


@dataclass
class Tabulation:
    """True values of every cell of one variable and year (restricted zone)."""

    question: Question
    year: int
    layout: Layout
    answers: tuple[str, ...]  # answer codes (categorical) or ("",) for numeric
    answered: np.ndarray  # per structure
    unit_values: np.ndarray  # structures × answers: contribution of each structure to each secret cell
    structures: np.ndarray  # per group
    respondents: np.ndarray  # per group
    secret: np.ndarray  # answers × groups: counts per answer, or sums
    top1: np.ndarray  # per group, largest contribution (numeric)
    top2: np.ndarray  # per group, second largest contribution (numeric)
    has_negative: np.ndarray  # per group
    quantiles: dict[str, np.ndarray]  # statistic → per-group value
    quantile_ok: dict[str, np.ndarray]  # statistic → enough units on each side
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (statistic, answer) in row order

    @property
    def is_numeric(self) -> bool:
        return self.question.type.is_numeric

    @property
    def publishes_sum(self) -> bool:
        return self.is_numeric and self.question.type is not QuestionType.PERCENT


def tabulable(question: Question) -> bool:
    return question.type.is_numeric or question.type.is_categorical


def numeric_values(microdata: pd.DataFrame, question: Question) -> np.ndarray:
    values: np.ndarray = pd.to_numeric(microdata["value"], errors="coerce").to_numpy(dtype=float)
    bad = microdata["value"].notna().to_numpy() & np.isnan(values)
    if bad.any():
        raise TabulationError(
            f"Question « {question.id} » : {int(bad.sum())} valeur(s) non numérique(s) dans les microdonnées."
        )
    return values


def answer_matrix(microdata: pd.DataFrame, question: Question) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    raw = microdata["value"].astype("string").str.strip()
    answered = (raw.notna() & (raw != "")).to_numpy(dtype=bool)
    texts = raw.fillna("").to_numpy(dtype=object)
    if question.type is QuestionType.MULTIPLE_CHOICE:
        chosen = [set(t.split(MULTIPLE_CHOICE_SEPARATOR)) - {""} if t else set() for t in texts]
    else:
        chosen = [{t} if t else set() for t in texts]
    observed = set().union(*chosen) if chosen else set()
    known = list(question.answer_codes)
    answers = tuple(known + sorted(observed - set(known)))
    matrix = np.zeros((len(texts), len(answers)), dtype=float)
    pos = {a: i for i, a in enumerate(answers)}
    for s, codes in enumerate(chosen):
        for code in codes:
            matrix[s, pos[code]] = 1.0
    return answers, answered, matrix


def _quantiles(
    membership: sp.csr_matrix, values: np.ndarray, answered: np.ndarray, min_side: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    coo = membership.tocoo()
    keep = answered[coo.col]
    g = coo.row[keep]
    v = values[coo.col[keep]]
    order = np.lexsort((v, g))
    g, v = g[order], v[order]
    n_groups = membership.shape[0]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out: dict[str, np.ndarray] = {}
    ok: dict[str, np.ndarray] = {}
    for stat, q in QUANTILES:
        h = q * (counts - 1)
        lo = np.floor(h).astype(np.int64)
        hi = np.ceil(h).astype(np.int64)
        frac = h - lo
        has = counts > 0
        lo_idx = np.where(has, starts + np.clip(lo, 0, None), 0)
        hi_idx = np.where(has, starts + np.clip(hi, 0, None), 0)
        val = v[lo_idx] * (1 - frac) + v[hi_idx] * frac if len(v) else np.zeros(n_groups)
        out[stat] = np.where(has, val, np.nan)
        ok[stat] = has & (lo >= min_side) & (counts - 1 - hi >= min_side)
    return out, ok


def _top2(
    membership: sp.csr_matrix, values: np.ndarray, answered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coo = membership.tocoo()
    keep = answered[coo.col]
    g = coo.row[keep]
    v = values[coo.col[keep]]
    n_groups = membership.shape[0]
    order = np.lexsort((-v, g))
    g, v = g[order], v[order]
    top1 = np.zeros(n_groups)
    top2 = np.zeros(n_groups)
    if len(g):
        first = np.ones(len(g), dtype=bool)
        first[1:] = g[1:] != g[:-1]
        top1[g[first]] = v[first]
        second = np.zeros(len(g), dtype=bool)
        second[1:] = first[:-1] & (g[1:] == g[:-1])
        top2[g[second]] = v[second]
    neg = np.zeros(n_groups, dtype=bool)
    if len(g):
        neg_groups = np.unique(g[v < 0])
        neg[neg_groups] = True
    return top1, top2, neg


def tabulate(
    microdata: pd.DataFrame, question: Question, year: int, spec: ReleaseSpec, min_side: int = 3
) -> Tabulation:
    """Every cell's true value for ``question`` (numeric or categorical questions only)."""
    if not tabulable(question):
        raise TabulationError(
            f"La question « {question.id} » ({question.type.value}) n'est pas tabulée "
            "(seules les questions numériques et à modalités le sont)."
        )
    layout = build_layout(microdata, year, spec)
    membership = layout.membership
    n_groups = layout.n_groups
    if question.type.is_numeric:
        values = numeric_values(microdata, question)
        answered = ~np.isnan(values)
        answers: tuple[str, ...] = ("",)
        unit = np.where(answered, values, 0.0)[:, None]
        top1, top2, neg = _top2(membership, np.nan_to_num(values), answered)
        quantiles, q_ok = _quantiles(membership, np.nan_to_num(values), answered, min_side)
    else:
        answers, answered, unit = answer_matrix(microdata, question)
        top1 = np.zeros(n_groups)
        top2 = np.zeros(n_groups)
        neg = np.zeros(n_groups, dtype=bool)
        quantiles, q_ok = {}, {}
    structures = np.asarray(membership.sum(axis=1)).ravel()
    respondents = membership @ answered.astype(float)
    secret = np.asarray((membership @ unit).T)
    tab = Tabulation(
        question=question,
        year=year,
        layout=layout,
        answers=answers,
        answered=answered,
        unit_values=unit,
        structures=structures,
        respondents=respondents,
        secret=secret,
        top1=top1,
        top2=top2,
        has_negative=neg,
        quantiles=quantiles,
        quantile_ok=q_ok,
    )
    tab.blocks = cell_blocks(tab)
    return tab


def cell_blocks(tab: Tabulation) -> list[tuple[str, str]]:
    """(statistic, answer) blocks of the cell table, in row order; each block has one row per group."""
    blocks = [(STRUCTURES, ""), (RESPONDENTS, ""), (RESPONSE_RATE, "")]
    if tab.is_numeric:
        if tab.publishes_sum:
            blocks.append((SUM, ""))
        blocks += [(MEAN, ""), (MEDIAN, ""), (Q1, ""), (Q3, "")]
    else:
        blocks += [(COUNT, a) for a in tab.answers]
        blocks += [(SHARE, a) for a in tab.answers]
    return blocks


def block_values(tab: Tabulation, statistic: str, answer: str) -> tuple[np.ndarray, np.ndarray]:
    """(value, n) arrays of one block."""
    resp = tab.respondents
    with np.errstate(invalid="ignore", divide="ignore"):
        if statistic == STRUCTURES:
            return tab.structures.astype(float), tab.structures
        if statistic == RESPONDENTS:
            return resp.astype(float), resp
        if statistic == RESPONSE_RATE:
            return np.where(tab.structures > 0, resp / tab.structures, np.nan), tab.structures
        if statistic == SUM:
            return tab.secret[0].copy(), resp
        if statistic == MEAN:
            return np.where(resp > 0, tab.secret[0] / resp, np.nan), resp
        if statistic in tab.quantiles:
            return tab.quantiles[statistic], resp
        a = tab.answers.index(answer)
        if statistic == COUNT:
            return tab.secret[a].copy(), resp
        if statistic == SHARE:
            return np.where(resp > 0, tab.secret[a] / resp, np.nan), resp
    raise KeyError(statistic)


def contributors_frame(tab: Tabulation) -> pd.DataFrame:
    """Per additive secret cell (count per answer, sum), the ids of the structures contributing.

    Columns: variable, statistic, answer, level, territory, breakdown, category, structure_id.
    For a count, the structures that gave the answer; for a sum (internal for percent
    questions), the respondents.
    """
    coo = tab.layout.membership.tocoo()
    keys = tab.layout.keys
    frames = []
    stat = SUM if tab.is_numeric else COUNT
    for a, answer in enumerate(tab.answers):
        mask = tab.answered if tab.is_numeric else tab.unit_values[:, a] > 0
        keep = mask[coo.col]
        g = coo.row[keep]
        s = coo.col[keep]
        order = np.lexsort((tab.layout.structure_ids[s].astype(str), g))
        g, s = g[order], s[order]
        frame = keys.iloc[g].reset_index(drop=True)
        frame.insert(0, "answer", answer)
        frame.insert(0, "statistic", stat)
        frame.insert(0, "variable", tab.question.id)
        frame["structure_id"] = tab.layout.structure_ids[s]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
