"""PROBES: what a curious or hostile viewer may try against ``senacs serve``.

- an ``execute_request`` sent over the kernel websocket is dropped (no reply, no output, no side effect),
  while a ``kernel_info_request`` on the same connection is answered (the probe really reaches the kernel);
- ``/voila/render/…``, ``/api/contents``, ``/voila/files/`` outside the allowlist, ``/static/`` paths
  and ``..`` traversal (plain and URL-encoded) get a 4xx and no file content;
- query-string parameters cannot change what is read (nor the template or theme);
- the Voilà processes and their kernels get the published folder only, and run outside the workspace;
- responses carry the security headers; ``--token`` closes the page to visitors without it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from dashboard_browser import open_dashboard
from websockets.sync.client import connect

from senacs_workbench.released.dashboard.data import load_catalog, territory_label
from senacs_workbench.released.dashboard.state import Selectors
from senacs_workbench.apps.serve import PUBLISHED_ENV, DashboardServer, serve
from senacs_workbench.core.workspace import Workspace

pytestmark = pytest.mark.slow
CONTENT_MARKERS = ("root:x:0", '"cells"', "nbformat", "PAR1", '"VoilaConfiguration"', "bundle_hash", "ZZSENTINELLE",
                   "senacs_workbench", "structure_id")


def _fetch(base_url: str, path: str, *, headers: dict[str, str] | None = None,
           max_redirects: int = 5) -> tuple[int, bytes, dict[str, str], list[str]]:
    """GET ``path`` exactly as written (no client-side normalisation), following redirects on the same server."""
    parts = urlsplit(base_url)
    chain = [path]
    for _ in range(max_redirects + 1):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        location = response_headers.get("location")
        if response.status in (301, 302, 303, 307, 308) and location:
            path = urlsplit(location).path + (f"?{urlsplit(location).query}" if urlsplit(location).query else "")
            chain.append(path)
            continue
        return response.status, body, response_headers, chain
    raise AssertionError(f"too many redirects: {chain}")


def _traversal_paths(server: DashboardServer, workspace: Workspace) -> list[str]:
    dashboard = server.dashboard("tableau_de_bord")
    root = dashboard.notebook.parent
    parquet = next(workspace.published.rglob("senacs_2024.parquet"))
    manifest = parquet.parent / "manifest.json"
    restricted_csv = workspace.restricted / "incoming" / "senacs_2024.csv"
    relative = [os.path.relpath(p, root) for p in (parquet, manifest, restricted_csv, root.parent / "voila.json")]
    up = "../" * 12
    encoded_up = "%2e%2e/" * 12
    paths = [
        # other notebooks, directory mode, the server extension's routes, Jupyter's APIs
        "/voila/render/tableau_de_bord.ipynb", "/voila/render/tendances.ipynb",
        f"/voila/render/{quote(str(dashboard.notebook))}", "/voila/tree", "/voila/tree/", "/tree", "/lab",
        "/notebooks/tableau_de_bord.ipynb", "/api/contents", "/api/contents/tableau_de_bord.ipynb",
        "/voila/api/contents", "/voila/api/contents/", "/api/kernels", "/api/sessions", "/api/terminals",
        "/api/kernelspecs", "/api/config", "/api/nbconvert",
        # files: the notebook itself, the Voilà configuration, the bundle, the restricted zone
        "/voila/files/tableau_de_bord.ipynb", "/voila/files/voila.json", "/voila/files/../voila.json",
        "/voila/files/%2e%2e/voila.json", "/voila/files/..%2fvoila.json", "/voila/files/%2E%2E%2Fvoila.json",
        f"/voila/files/{up}etc/passwd", f"/voila/files/{encoded_up}etc/passwd", "/voila/files//etc/passwd",
        f"/voila/files/{quote(str(parquet))}", f"/voila/files/{quote(str(restricted_csv))}",
        *(f"/voila/files/{quote(r, safe='/')}" for r in relative),
        *(f"/voila/files/{quote(r, safe='').replace('.', '%2e')}" for r in relative),
        # static handlers and traversal (CVE-2024-30265 was a /static/ file inclusion)
        f"/static/{up}etc/passwd", f"/voila/static/{up}etc/passwd", f"/voila/static/{encoded_up}etc/passwd",
        "/voila/static/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"/voila/static/{quote(str(parquet))}", f"/voila/static/%2F{quote(str(restricted_csv))[1:]}",
        f"/voila/templates/lab/static/{up}etc/passwd", f"/voila/templates/lab/static/{encoded_up}etc/passwd",
        f"/voila/labextensions/{up}etc/passwd", f"/voila/labextensions/{encoded_up}etc/passwd",
        f"/voila/api/themes/{encoded_up}etc/passwd", f"/{encoded_up}etc/passwd", f"/{up}etc/passwd",
        f"/{encoded_up}{quote(str(restricted_csv))[1:]}",
    ]
    return paths


def test_http_probes_get_nothing(dashboard_server: DashboardServer, released_workspace: Workspace) -> None:
    for dashboard in dashboard_server.dashboards:
        status, body, _, _ = _fetch(dashboard.base_url, "/voila/static/143.voila.js")
        assert status == 200 and body, "positive control: a real static file is served"
        for path in _traversal_paths(dashboard_server, released_workspace):
            status, body, _, chain = _fetch(dashboard.base_url, path)
            text = body.decode("utf-8", errors="replace")
            if status == 500 and path.startswith("/voila/templates/"):
                # Voilà's template static handler asserts on the path shape (an AssertionError, so a bare
                # 500 page): nothing is read. A reverse proxy normalises such paths before they arrive.
                assert "Internal Server Error" in text and len(body) < 200, (path, text[:200])
                continue
            assert 400 <= status < 500, (path, status, chain, text[:200])
            found = [m for m in CONTENT_MARKERS if m in text]
            assert found == [], (path, status, found)


def test_security_headers(dashboard_server: DashboardServer) -> None:
    dashboard = dashboard_server.dashboard("tendances")
    connection = http.client.HTTPConnection(dashboard.host, dashboard.port, timeout=30)
    connection.request("GET", "/api/contents")
    response = connection.getresponse()
    response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    connection.close()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "connect-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def _message(msg_type: str, session: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session, "username": "probe",
                   "version": "5.3", "date": dt.datetime.now(dt.UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": [],
    }


def test_execute_request_over_the_kernel_websocket_is_ignored(browser: Any, dashboard_server: DashboardServer,
                                                             tmp_path: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        open_dashboard(page, dashboard_server, "tendances")
        kernel_socket = next(u for u in sockets if "/api/kernels/" in u and "/channels" in u)
        session = uuid.uuid4().hex
        marker = tmp_path / "executed.txt"
        url = kernel_socket.split("?")[0] + f"?session_id={session}"
        with connect(url, open_timeout=30) as ws:
            info = _message("kernel_info_request", session, {})
            ws.send(json.dumps(info))
            code = (f"open({str(marker)!r}, 'w').write('x')\nprint('PROBE-' + str(6 * 7))\n"
                    "import os; print(os.environ)")
            execute = _message("execute_request", session, {
                "code": code, "silent": False, "store_history": True, "user_expressions": {"x": "6*7"},
                "allow_stdin": False, "stop_on_error": True})
            ws.send(json.dumps(execute))
            replies: list[dict[str, Any]] = []
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                try:
                    raw = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                replies.append(json.loads(raw))
        answered = {r["parent_header"].get("msg_id"): r for r in replies if r.get("parent_header")}
        assert info["header"]["msg_id"] in answered, "positive control: kernel_info_request is answered"
        about_execute = [r for r in replies if r.get("parent_header", {}).get("msg_id") == execute["header"]["msg_id"]]
        assert about_execute == [], [r["msg_type"] for r in about_execute]
        assert not any(r.get("msg_type") in ("execute_reply", "execute_input", "stream", "execute_result", "error")
                       for r in replies)
        assert all("PROBE-42" not in json.dumps(r) for r in replies)
        assert not marker.exists(), "the code was never executed"
    finally:
        context.close()


def test_query_string_cannot_change_what_is_read(browser: Any, dashboard_server: DashboardServer,
                                                 released_workspace: Workspace, tmp_path: Path) -> None:
    # what the page shows without any query string (computed in-process from the same released bundles)
    default = Selectors(load_catalog(released_workspace.published))
    selection = default.selection()
    assert selection is not None
    expected_title = (f"{default.catalog.question(selection.variable, selection.year).label} — "
                      f"{territory_label(selection.territory)} — campagne {selection.year}")
    expected_years = [str(y) for y in reversed(default.catalog.years)]
    decoy = tmp_path / "published"
    (decoy / "released" / "1999" / "v1").mkdir(parents=True)
    query = "&".join([
        f"{PUBLISHED_ENV}={quote(str(decoy))}", f"published_dir={quote(str(decoy))}", "year=1999",
        "territory=departement%3A40", "question=budget_total", "template=..%2F..%2F..%2Fetc", "theme=dark",
        "voila-template=classic", "kernel_name=python3", "path=..%2Ftendances.ipynb",
    ])
    context = browser.new_context()
    try:
        page = context.new_page()
        open_dashboard(page, dashboard_server, "tableau_de_bord", charts=2, query=query)
        assert page.locator(".senacs-cards-title").text_content() == expected_title
        assert page.locator(".senacs-select-year select option").all_text_contents() == expected_years
        assert page.locator(".senacs-error").count() == 0
        assert page.locator('body[data-jp-theme-light="true"]').count() == 1, "the theme override is refused"
        # positive control: the query string did reach a kernel's environment, and changed nothing there
        process = dashboard_server.processes["tableau_de_bord"]
        kernels = [_environ(pid) for pid in _descendants(process.pid)]
        reached = [env for env in kernels if str(decoy) in unquote(env.get("QUERY_STRING", ""))]
        assert reached, "the probe's query string reached the kernel"
        assert all(env[PUBLISHED_ENV] == str(released_workspace.published.resolve()) for env in reached)
    finally:
        context.close()
    package = Path(__file__).resolve().parents[2] / "senacs_workbench" / "released" / "dashboard"
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    assert "QUERY_STRING" not in source and "wait_for_request" not in source and "HTTP_" not in source


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\0") if "=" in item)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in children.get(current, []):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_processes_get_the_published_folder_only(dashboard_server: DashboardServer,
                                                 released_workspace: Workspace) -> None:
    workspace = released_workspace.root.resolve()
    for name, process in dashboard_server.processes.items():
        pids = [process.pid, *_descendants(process.pid)]
        assert len(pids) >= 2, "the Voilà process and at least one (preheated) kernel"
        for pid in pids:
            env = _environ(pid)
            assert env[PUBLISHED_ENV] == str(released_workspace.published.resolve())
            assert "SENACS_WORKSPACE" not in env
            leaked = [k for k, v in env.items() if k != PUBLISHED_ENV and str(workspace) in v]
            assert leaked == [], (name, pid, leaked)
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            assert not cwd.is_relative_to(workspace), (name, pid, cwd)
            assert cwd.is_relative_to(dashboard_server.runtime_dir), (name, pid, cwd)


def test_token_is_required_when_set(released_workspace: Workspace) -> None:
    token = uuid.uuid4().hex
    server = serve(released_workspace.published, port=0, token=token, preheat=False, dashboards=["tendances"])
    try:
        server.wait_ready(120)
        dashboard = server.dashboard("tendances")
        assert dashboard.url.endswith(f"?token={token}")
        for path in ("/", "/?token=wrong", "/voila/files/voila.json", "/api/kernels"):
            status, body, _, chain = _fetch(dashboard.base_url, path)
            assert status in (401, 403, 404) or "login" in chain[-1], (path, status, chain)
            assert b"senacs-dashboard" not in body and b"widget-view" not in body
        connection = http.client.HTTPConnection(dashboard.host, dashboard.port, timeout=60)
        connection.request("GET", f"/?token={token}")
        response = connection.getresponse()
        assert response.status == 200
        connection.close()
    finally:
        server.stop()
