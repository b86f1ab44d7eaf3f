"""The analysis package without kernels: figures, audiences, the centre's narrow store read, the lab command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from campaign_support import NOTEBOOKS

from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.released.analysis import charts, territorial, thematic, trends
from senacs_workbench.released.analysis.audience import may_publish_to
from senacs_workbench.restricted.store import RawDataStore, StoreError
from senacs_workbench.trust.audit_log import entries


def test_committee_notebooks_are_checked_by_the_isolation_test_and_the_centre_report_is_not() -> None:
    for name in ("territorial_analysis", "thematic_analysis", "trends", "centre_report"):
        notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
        committee = notebook["metadata"]["senacs"]["audience"] == "committee"
        assert committee == (name != "centre_report")
        assert ("audience" in code and "committee" in code) == committee
        assert "store" not in code or not committee
        params = next(c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
        assert notebook["cells"].index(params) == 1  # the markdown introduction comes first


def test_only_committee_notebooks_go_to_other_audiences() -> None:
    assert may_publish_to("committee", "committee") and may_publish_to("committee", "centre")
    assert not may_publish_to("restricted", "committee") and not may_publish_to("centre", "committee")
    assert not may_publish_to("restricted", "centre") and may_publish_to("restricted", "restricted")


def test_every_chart_states_n_and_response_rate_and_shows_s(released_template) -> None:
    reports = [
        territorial.build(released_template.published, "departement:24", 2024),
        thematic.build(released_template.published, "theme_annee", "departement:24", 2024),
        trends.build(released_template.published, "region:75", 2023, 2024, panel_structures=12),
    ]
    suppressed = 0
    for report in reports:
        for spec in report.figures:
            if spec.kind == "table":
                assert "Taux de réponse" in charts.table_html(spec)
                continue
            figure = charts.figure(spec)
            names = [t.name for t in figure.data if t.showlegend is not False]
            assert names and all("n = " in n and "taux de réponse" in n for n in names), spec.id
            hidden = spec.data[spec.data.status.isin(["A", "B", "D"])]
            suppressed += len(hidden)
            assert (hidden.shown == "s").all() and hidden.value.isna().all()
            texts = [x for t in figure.data for x in (t.text or ())]
            assert len(hidden) == 0 or "s" in texts
    assert suppressed > 0
    assert "Panel constant : 12 structures" in reports[2].sections[0].text


def test_every_chart_says_what_it_shows(released_template) -> None:
    """Suppressed cells visibly absent (hatched bar or dotted rule, never a zero), a text alternative, captions."""
    reports = [
        territorial.build(released_template.published, "departement:24", 2024),
        thematic.build(released_template.published, "theme_annee", "departement:24", 2024),
        trends.build(released_template.published, "region:75", 2023, 2024, panel_structures=12),
    ]
    hatched = rules = 0
    for report in reports:
        for spec in report.figures:
            if spec.kind == "table":
                assert f"<caption>{spec.title}</caption>" in charts.table_html(spec).replace("&#x27;", "'")
                continue
            figure = charts.figure(spec)
            alt = charts.description(figure)
            assert alt.startswith("Graphique en"), spec.id
            for value in spec.data.shown:
                assert " ".join(str(value).split()) in alt, (spec.id, value)
            assert 'class="senacs-chart-alt"' in charts.mimebundle(figure)["text/html"]
            for trace in figure.data:
                ys = list(trace.y)
                if trace.type == "scatter":  # a suppressed point is not drawn at all (a rule marks it)
                    assert all(y is None for y, text in zip(ys, trace.text) if text == "s"), spec.id
                if trace.type == "bar":
                    for y, text, shape in zip(ys, trace.text, trace.marker.pattern.shape):
                        if text == "s":
                            hatched += 1
                            assert y is not None and y > 0 and shape == "x"
            rules += sum(1 for shape in figure.layout.shapes if shape.line.dash == "dot")
    assert hatched > 0 and rules >= 0


def test_trends_without_panel_size_says_it_was_not_computed(released_template) -> None:
    report = trends.build(released_template.published, "FR", 2023, 2024)
    assert "n'a pas été calculée" in report.sections[0].text


def test_centre_answers_reads_one_structure_and_checks_access(released_template, monkeypatch) -> None:
    store = RawDataStore(released_template, user="prep")
    answers = store.centre_answers(2024, "S24000")
    assert set(answers.structure_id) == {"S24000"} and len(answers) > 20
    last = entries(released_template.audit_log_path)[-1]
    assert last["action"] == "read_answers" and last["details"]["structure_id"] == "S24000"
    with pytest.raises(AccessDenied):
        RawDataStore(released_template, user="ccaf").centre_answers(2024, "S24000")
    assert entries(released_template.audit_log_path)[-1]["action"] == "refused:read_answers"
    with pytest.raises(StoreError, match="n'existe pas"):
        store.centre_answers(2024, "INCONNU")


def test_committee_analysis_modules_never_reach_the_restricted_side() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_published_isolation import _closure, _violations

    names = ("territorial", "thematic", "trends", "charts", "common", "audience")
    modules = {f"senacs_workbench.released.analysis.{m}" for m in names}
    assert _violations(_closure(modules)) == []
    # the checker works here too
    assert _violations(_closure({"senacs_workbench.restricted.analysis.centre_report"})) != []
