"""Map the header of an export to codebook ids.

A header cell names a column by its codebook id or its French label (matched without regard
to case, accents, spaces or punctuation). For other layouts, a YAML mapping file
(``--mapping``) names the columns::

    columns:                       # header as written in the file -> codebook id
      "N° SENACS": id_structure
      "Budget global": budget_total
    ignore: ["Date de saisie"]     # columns to leave out
    provenance_default: centre     # when the file has no « saisi par » column

Unknown columns, columns given twice and missing required columns are all reported at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from senacs_workbench.core.codebook import Codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.restricted.importing.issues import ImportIssue, ImportRejected
from senacs_workbench.restricted.importing.reading import RawTable
from senacs_workbench.restricted.importing.text import fold

KEY_COLUMN = "id_structure"
REQUIRED_KEYS = ("id_structure", "nom_structure", "code_commune")


class MappingError(SenacsError):
    """The mapping file is missing or malformed."""


@dataclass(frozen=True)
class ColumnMapping:
    """A user's mapping file: header (folded) -> target id, ignored headers, defaults."""

    columns: dict[str, str] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    provenance_default: str | None = None


@dataclass(frozen=True)
class ResolvedColumns:
    """Where each target (key, provenance or question id) is in the raw table."""

    positions: dict[str, int]
    headers: dict[str, str]
    """target id -> header as written in the file (for messages)."""
    missing_questions: tuple[str, ...]
    """Optional questions without a column: treated as unanswered."""
    ignored: tuple[str, ...]
    provenance_default: str | None


def load_mapping(path: Path | None, codebook: Codebook) -> ColumnMapping:
    """Load and check a mapping file; ``None`` gives the empty mapping."""
    if path is None:
        return ColumnMapping()
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MappingError(f"Fichier de correspondance introuvable : {path}.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"Fichier de correspondance {path} illisible : {exc}") from None
    if not isinstance(raw, dict):
        raise MappingError(f"Fichier de correspondance {path} : un dictionnaire YAML est attendu.")
    unknown_keys = set(raw) - {"columns", "ignore", "provenance_default"}
    if unknown_keys:
        raise MappingError(
            f"Fichier de correspondance {path} : rubrique(s) inconnue(s) {', '.join(sorted(map(str, unknown_keys)))} "
            "(attendu : columns, ignore, provenance_default)."
        )
    targets = set(_targets(codebook))
    columns: dict[str, str] = {}
    for source, target in (raw.get("columns") or {}).items():
        if str(target) not in targets:
            raise MappingError(
                f"Fichier de correspondance {path} : « {source} » renvoie à « {target} », qui n'est pas "
                f"une colonne du questionnaire {codebook.year}."
            )
        columns[fold(str(source))] = str(target)
    default = raw.get("provenance_default")
    codes = {v.code for v in codebook.provenance.values}
    if default is not None and str(default) not in codes:
        raise MappingError(
            f"Fichier de correspondance {path} : provenance_default « {default} » inconnue "
            f"(attendu : {', '.join(sorted(codes))})."
        )
    return ColumnMapping(
        columns=columns,
        ignore=frozenset(fold(str(h)) for h in raw.get("ignore") or []),
        provenance_default=None if default is None else str(default),
    )


def _targets(codebook: Codebook) -> dict[str, list[str]]:
    """Every target id with the names that designate it (id first, then labels)."""
    prov = codebook.provenance
    targets: dict[str, list[str]] = {k.id: [k.id, k.label] for k in codebook.keys}
    targets[prov.column] = [prov.column, prov.label]
    for section, label in codebook.sections.items():
        column = prov.section_column(section)
        targets[column] = [column, f"{prov.label} {label}", f"{prov.label} {section}"]
    for question in codebook.questions:
        targets[question.id] = [question.id, question.label]
    return targets


def _aliases(codebook: Codebook, mapping: ColumnMapping) -> dict[str, str]:
    aliases: dict[str, str] = {}
    ambiguous: set[str] = set()
    targets = _targets(codebook)
    for target, names in targets.items():  # ids win over labels
        aliases[fold(names[0])] = target
    for target, names in targets.items():
        for name in names[1:]:
            folded = fold(name)
            if folded in aliases and aliases[folded] != target:
                if folded != fold(targets[aliases[folded]][0]):
                    ambiguous.add(folded)
                continue
            aliases[folded] = target
    for folded in ambiguous:
        aliases.pop(folded, None)
    aliases.update(mapping.columns)
    return aliases


def header_keys(codebook: Codebook, mapping: ColumnMapping) -> set[str]:
    """Folded names that mark the header row (the key column's id, label or mapped name)."""
    return {alias for alias, target in _aliases(codebook, mapping).items() if target == KEY_COLUMN}


def resolve_headers(table: RawTable, codebook: Codebook, mapping: ColumnMapping) -> ResolvedColumns:
    """Locate every target in ``table``; raise :class:`ImportRejected` listing all header problems."""
    aliases = _aliases(codebook, mapping)
    issues: list[ImportIssue] = []
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    line = table.header_line

    def issue(rule: str, column: str | None = None) -> None:
        issues.append(ImportIssue(file=table.file, line=line, column=column, rule=rule))

    for position, header in enumerate(table.columns):
        if not header:
            filled = table.frame[position].map(_filled).any() if len(table.frame) else False
            if filled:
                issue(f"colonne n° {position + 1} sans en-tête mais contenant des valeurs")
            continue
        folded = fold(header)
        if folded in mapping.ignore:
            ignored.append(header)
            continue
        target = aliases.get(folded)
        if target is None:
            issue(
                f"colonne inconnue du questionnaire {codebook.year} (ni identifiant ni libellé d'une question ; "
                "utilisez un fichier de correspondance --mapping pour la renommer ou l'ignorer)",
                column=header,
            )
            continue
        if target in positions:
            issue(f"colonne en double : « {headers[target]} » désigne déjà « {target} »", column=header)
            continue
        positions[target] = position
        headers[target] = header
    required = list(REQUIRED_KEYS)
    if mapping.provenance_default is None:
        required.append(codebook.provenance.column)
    required += [q.id for q in codebook.questions if q.required]
    for target in required:
        if target not in positions:
            label = next((names[1] for t, names in _targets(codebook).items() if t == target), target)
            issues.append(
                ImportIssue(
                    file=table.file,
                    line=line,
                    rule=f"colonne obligatoire absente : « {target} » ({label})",
                )
            )
    if issues:
        raise ImportRejected(table.file, issues)
    missing = tuple(q.id for q in codebook.questions if q.id not in positions)
    return ResolvedColumns(
        positions=positions,
        headers=headers,
        missing_questions=missing,
        ignored=tuple(ignored),
        provenance_default=mapping.provenance_default,
    )


def _filled(cell: object) -> bool:
    return not (cell is None or (isinstance(cell, str) and not cell.strip()))
