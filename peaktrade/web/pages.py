"""The dashboard's pages and its two writes. Each handler reads through ``web.data``/``rundata``/
``plays``/``approvals`` and renders a Jinja template; an htmx poll (``HX-Request``) gets only the
page's content block, the banner its own fragment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from peaktrade.desk.killswitch import engage as engage_kill_switch
from peaktrade.errors import PeakTradeError
from peaktrade.oplog import append_operation
from peaktrade.root import Root
from peaktrade.web import approvals, data, metrics, plays, rundata
from peaktrade.web.markdown import render as render_markdown
from peaktrade.web.security import CSRF_COOKIE, TOKEN_COOKIE, Security

TEMPLATES = Path(__file__).parent / "templates"
POLL_SECONDS = 3
MAX_SIGNATURE_BYTES = 16_384  # an SSH signature is ~300 bytes armored: anything far larger is not one
MAX_TEXT = 2_000


class Pages:
    def __init__(self, root: Root, security: Security):
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.root, self.security = root, security
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["num"] = _num
        self.env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.2f}%"

    # -- rendering ---------------------------------------------------------------------------------
    def _page(self, request: Any, template: str, status: int = 200, **context: Any) -> Any:
        from starlette.responses import HTMLResponse

        partial = request.headers.get("hx-request") == "true" and request.method == "GET"
        ctx = {"request": request, "partial": partial, "poll": POLL_SECONDS, "path": request.url.path,
               "csrf": self.security.csrf_for(request.state.csrf_cookie), **context}  # poll=0: a static page
        if not partial:
            ctx["banner"] = data.banner(self.root)
        return HTMLResponse(self.env.get_template(template).render(ctx), status_code=status)

    def _error(self, request: Any, status: int, message: str) -> Any:
        return self._page(request, "error.html", status=status, message=message, title=f"error {status}", poll=0)

    async def not_found(self, request: Any, exc: Any) -> Any:
        if not hasattr(request.state, "csrf_cookie"):
            from starlette.responses import PlainTextResponse

            return PlainTextResponse("not found", 404)
        return self._error(request, 404, "no such page")

    # -- reads ---------------------------------------------------------------------------------------
    def banner(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse

        html = self.env.get_template("banner.html").render(banner=data.banner(self.root))
        return HTMLResponse(html)

    def runs(self, request: Any) -> Any:
        return self._page(request, "runs.html", title="Runs", runs=data.runs(self.root))

    def run(self, request: Any) -> Any:
        run_id = request.path_params["run_id"]
        try:
            view = rundata.run_view(self.root, run_id)
        except PeakTradeError as exc:
            return self._error(request, 404, exc.message)
        return self._page(request, "run.html", title=f"Run {run_id}", run_id=run_id, view=view)

    def divergence(self, request: Any) -> Any:
        run_id = request.path_params["run_id"]
        try:
            view = rundata.divergence_view(self.root, run_id)
        except PeakTradeError as exc:
            return self._error(request, 404, exc.message)
        # not polled: it runs a backtest (seconds); reload the page to recompute
        return self._page(request, "divergence.html", title=f"Backtest vs run {run_id}", run_id=run_id, view=view,
                          poll=0)

    def alerts(self, request: Any) -> Any:
        return self._page(request, "alerts.html", title="Alerts", alerts=data.alerts(self.root))

    def plays(self, request: Any) -> Any:
        return self._page(request, "plays.html", title="Plays", plays=plays.plays(self.root))

    def play(self, request: Any) -> Any:
        view = plays.play(self.root, request.path_params["play_id"])
        if view is None:
            return self._error(request, 404, f"no play {request.path_params['play_id']!r} under var/plays/")
        return self._page(request, "play.html", title=f"Play {view['play_id']}", play=view)

    def report(self, request: Any) -> Any:
        kind, name = request.path_params["kind"], request.path_params["name"]
        base = {"checklists": self.root.checklists_dir, "incidents": self.root.incidents_dir}.get(kind)
        text = data.read_report(base, name) if base is not None else None
        if text is None:
            return self._error(request, 404, f"no report {kind}/{name}")
        return self._page(request, "report.html", title=name, kind=kind, name=name, html=render_markdown(text),
                          poll=0)

    def incidents(self, request: Any) -> Any:
        return self._page(request, "incidents.html", title="Incidents", incidents=data.incidents(self.root))

    def approvals(self, request: Any) -> Any:
        return self._page(request, "approvals.html", title="Approvals", approvals=approvals.requests(self.root))

    def approval(self, request: Any, *, status: int = 200, message: str = "", ok: bool = False) -> Any:
        try:
            view = approvals.request(self.root, request.path_params["request_id"])
        except PeakTradeError as exc:
            return self._error(request, 404, exc.message)
        return self._page(request, "approval.html", status=status, title=f"Approval {view['row']['id']}",
                          view=view, message=message, ok=ok)

    def approval_bytes(self, request: Any) -> Any:
        from starlette.responses import Response

        try:
            view = approvals.request(self.root, request.path_params["request_id"])
        except PeakTradeError as exc:
            return self._error(request, 404, exc.message)
        name = view["row"]["id"]
        return Response(view["bytes"].encode("utf-8"), media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})

    def kill_switch(self, request: Any, *, status: int = 200, message: str = "") -> Any:
        return self._page(request, "kill_switch.html", status=status, title="Kill switch", message=message,
                          engaged=request.query_params.get("engaged") == "1", poll=0)

    def metrics(self, request: Any) -> Any:
        from starlette.responses import Response

        body, content_type = metrics.render(self.root)
        return Response(body, media_type=content_type)

    # -- the two writes ----------------------------------------------------------------------------
    async def _form(self, request: Any) -> tuple[Any, str | None]:
        """The form, or why it is refused (CSRF first: nothing of a forged request is looked at)."""
        form = await request.form(max_files=1, max_fields=10)
        if not self.security.csrf_ok(request.cookies.get(CSRF_COOKIE), str(form.get("csrf") or "")):
            return form, "the form's CSRF token is missing or wrong: reload the page and submit again"
        return form, None

    async def engage(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        form, refused = await self._form(request)
        if refused:
            return self.kill_switch(request, status=403, message=refused)
        reason = " ".join(str(form.get("reason") or "").split())[:MAX_TEXT]
        name = _name(form.get("operator"))
        if not reason:
            return self.kill_switch(request, status=400, message="a reason is required to engage the kill switch")
        if not name:
            return self.kill_switch(request, status=400, message="say who you are (letters, digits, . _ -)")
        try:
            # the same function as `peaktrade kill-switch engage`; it writes operations.log
            await run_in_threadpool(engage_kill_switch, self.root, reason, f"web:{name}")
        except PeakTradeError as exc:
            return self.kill_switch(request, status=500, message=exc.message)
        return RedirectResponse("/kill-switch?engaged=1", 303)

    async def upload_signature(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.datastructures import UploadFile

        form, refused = await self._form(request)
        if refused:
            return self.approval(request, status=403, message=refused)
        request_id, name = request.path_params["request_id"], _name(form.get("name"))
        upload = form.get("signature_file")
        text = str(form.get("signature") or "")
        if isinstance(upload, UploadFile) and upload.filename:
            text = (await upload.read(MAX_SIGNATURE_BYTES + 1)).decode("utf-8", errors="replace")
        text = text.replace("\r\n", "\n")  # a browser sends a textarea's lines with CRLF; ssh-keygen wants LF
        if not name:
            return self.approval(request, status=400, message="say who signed (your name in policies/roles.yaml)")
        if not text.strip() or len(text) > MAX_SIGNATURE_BYTES or "BEGIN SSH SIGNATURE" not in text:
            return self.approval(request, status=400, message="paste or attach the .sig file ssh-keygen -Y sign wrote")
        try:
            await run_in_threadpool(approvals.upload, self.root, request_id, name, text)
        except PeakTradeError as exc:
            append_operation(self.root, operator=f"web:{name}", what="approvals sign", outcome="refused",
                             reason=f"{request_id}: {exc.message}")
            return self.approval(request, status=400, message=f"signature refused: {exc.message}")
        append_operation(self.root, operator=f"web:{name}", what="approvals sign", outcome="signed",
                         reason=f"{request_id} (signature uploaded to the dashboard)")
        return self.approval(request, message=f"{name}'s signature verified and recorded", ok=True)

    async def login(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        if request.method == "GET" or self.security.token is None:
            return self._login_page(request)
        form, refused = await self._form(request)
        if refused or not self.security.token_ok(f"Bearer {form.get('token') or ''}", None):
            await asyncio.sleep(0.5)  # a wrong guess costs the guesser time
            return self._login_page(request, status=403, message=refused or "wrong token")
        response = RedirectResponse("/", 303)
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(TOKEN_COOKIE, str(form.get("token")), httponly=True, samesite="strict", secure=secure)
        return response

    def _login_page(self, request: Any, status: int = 200, message: str = "") -> Any:
        from starlette.responses import HTMLResponse

        html = self.env.get_template("login.html").render(
            csrf=self.security.csrf_for(request.state.csrf_cookie), message=message,
            needed=self.security.token is not None)
        return HTMLResponse(html, status_code=status)


def _name(value: Any) -> str:
    text = str(value or "").strip()
    ok = text and len(text) <= 64 and all(c.isalnum() or c in "._-" for c in text)
    return text if ok else ""


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return str(value)
