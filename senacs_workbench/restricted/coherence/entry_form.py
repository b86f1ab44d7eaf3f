"""The entry form (ipywidgets), generated from the codebook, for JupyterLab.

``EntryForm(workspace, year, structure_id).widget`` shows one field per question, grouped by
section, with the question's help text beside it; « Enregistrer » validates the changed fields
as at import and stores them with their provenance (:func:`.entry.enter_answers`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as w

from senacs_workbench.core.codebook import (
    MULTIPLE_CHOICE_SEPARATOR,
    YES_NO_CATEGORIES,
    Question,
    QuestionType,
    load_codebook,
)
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.core.workspace_lock import workspace_lock
from senacs_workbench.restricted.coherence.corrections import CorrectionError
from senacs_workbench.restricted.coherence.entry import (
    ENTRY_PROVENANCES,
    EntryError,
    default_provenance,
    enter_answers,
    structure_answers,
)
from senacs_workbench.restricted.coherence.render import RESTRICTED_BANNER
from senacs_workbench.restricted.coherence.values import display_value

NO_ANSWER = "(sans réponse)"


def _field(question: Question, current: Any) -> w.Widget:
    kind = question.type
    layout = w.Layout(width="100%")
    if kind in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
        categories = YES_NO_CATEGORIES if kind is QuestionType.YES_NO else question.categories
        options = [(NO_ANSWER, ""), *((c.label, c.code) for c in categories)]
        codes = {c.code for c in categories}
        return w.Dropdown(options=options, value=current if current in codes else "", layout=layout)
    if kind is QuestionType.MULTIPLE_CHOICE:
        codes = {c.code for c in question.categories}
        chosen = tuple(c for c in (current or "").split(MULTIPLE_CHOICE_SEPARATOR) if c in codes)
        return w.SelectMultiple(options=[(c.label, c.code) for c in question.categories], value=chosen, layout=layout)
    if kind is QuestionType.TEXT:
        return w.Textarea(value=current or "", layout=layout)
    shown = "" if current is None else display_value(question, current).replace("\u202f", " ").replace("\u00a0", " ")
    placeholder = "jj/mm/aaaa" if kind is QuestionType.DATE else (question.unit or "")
    return w.Text(value=shown, placeholder=placeholder, layout=layout)


def _raw(question: Question, widget: w.Widget) -> Any:
    value = widget.value
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return MULTIPLE_CHOICE_SEPARATOR.join(sorted(value)) if value else None
    return value if value not in ("", None) else None


class EntryForm:
    """A form to enter or complete a centre's answers on its behalf."""

    def __init__(
        self,
        workspace: Workspace,
        year: int,
        structure_id: str,
        *,
        sections: Sequence[str] | None = None,
        provenance: str | None = None,
        user: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.year = year
        self.structure_id = structure_id
        self.user = user
        self.codebook = load_codebook(year)
        self.structure, answers = structure_answers(workspace, year, structure_id, user=user, action="enter_answers")
        self.questions = [q for q in self.codebook.questions if sections is None or q.section in sections]
        self.fields: dict[str, w.Widget] = {}
        self.errors: dict[str, w.HTML] = {}
        self.help: dict[str, w.HTML] = {}
        self.initial: dict[str, Any] = {}
        groups: dict[str, list[w.Widget]] = {}
        for question in self.questions:
            current = answers.get(question.id, {}).get("value")
            field = _field(question, current)
            self.fields[question.id] = field
            self.initial[question.id] = field.value
            self.errors[question.id] = w.HTML("")
            label = w.HTML(f"<b>{question.label}</b>" + (" <i>(obligatoire)</i>" if question.required else ""))
            help_text = w.HTML(f"<span style='color:#555'>{question.help}</span>", layout=w.Layout(width="45%"))
            self.help[question.id] = help_text
            left = w.VBox([label, field, self.errors[question.id]], layout=w.Layout(width="55%"))
            groups.setdefault(question.section, []).append(w.HBox([left, help_text]))
        default = provenance or default_provenance(workspace, user)
        self.provenance = w.ToggleButtons(
            options=[("Caf", "caf"), ("Fédération", "federation")],
            value=default if default in ENTRY_PROVENANCES else None,
            description="Saisi par :",
        )
        self.why = w.Text(value="", placeholder="motif (facultatif)", description="Motif :")
        self.save_button = w.Button(description="Enregistrer", button_style="primary", icon="save")
        self.status = w.HTML("")
        self.save_button.on_click(self.save)
        self.result: Any = None
        sections_box = w.Accordion(children=[w.VBox(items) for items in groups.values()])
        for index, section in enumerate(groups):
            sections_box.set_title(index, self.codebook.sections.get(section, section))
        name = html.escape(str(self.structure.get("nom_structure") or structure_id))
        header = w.HTML(
            f"<div style='background:#fde2e1;padding:4px 8px'>{RESTRICTED_BANNER}</div>"
            f"<h3>Saisie pour le compte de {name} ({structure_id}) — campagne {year}</h3>"
            "<p>Les valeurs saisies ici sont enregistrées comme saisies par la Caf ou la fédération et figureront "
            "sur la fiche de relecture du centre (charte SENACS, article 2.2).</p>"
        )
        self.widget = w.VBox([header, self.provenance, sections_box, self.why, self.save_button, self.status])

    def changed(self) -> dict[str, Any]:
        """The fields whose value differs from the stored answer, as typed."""
        out = {}
        for question in self.questions:
            field = self.fields[question.id]
            if field.value != self.initial[question.id]:
                out[question.id] = _raw(question, field)
        return out

    def save(self, _button: Any = None) -> Any:
        for error in self.errors.values():
            error.value = ""
        changes = self.changed()
        if not changes:
            self.status.value = "<span>Aucune modification à enregistrer.</span>"
            return None
        try:
            with workspace_lock(self.workspace.root, f"la saisie des réponses de {self.structure_id}"):
                result = enter_answers(
                    self.workspace,
                    self.year,
                    self.structure_id,
                    changes,
                    provenance=self.provenance.value,
                    why=self.why.value.strip() or None,
                    user=self.user,
                )
        except EntryError as exc:
            for variable, rule in exc.problems.items():
                if variable in self.errors:
                    self.errors[variable].value = f"<span style='color:#c9191e'>{html.escape(rule)}</span>"
            self.status.value = (
                f"<span style='color:#c9191e'>Saisie refusée : {len(exc.problems)} champ(s) à revoir.</span>"
            )
            return None
        except (CorrectionError, SenacsError) as exc:
            self.status.value = f"<span style='color:#c9191e'>{html.escape(str(exc))}</span>"
            return None
        for variable in changes:
            self.initial[variable] = self.fields[variable].value
        self.result = result
        self.status.value = f"<span style='color:#18753c'>{html.escape(result.message_fr)}</span>"
        return result


def entry_form(workspace: Workspace, year: int, structure_id: str, **options: Any) -> w.Widget:
    """The form's widget (for a notebook cell)."""
    return EntryForm(workspace, year, structure_id, **options).widget
