"""The Starlette application: routes, the token/Host/CSRF gate in front of them, static files.

Handlers are plain functions (Starlette runs them in its thread pool): every read is a short file or
SQLite read, so a slow disk delays a page, never the event loop, and never a session (the desk's
readers take no write lock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peaktrade.root import Root
from peaktrade.web import pages
from peaktrade.web.security import CSRF_COOKIE, TOKEN_COOKIE, Security, new_cookie

STATIC = Path(__file__).parent / "static"
OPEN_PATHS = ("/login",)


def create_app(root: Root, security: Security | None = None) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    security = security or Security()
    view = pages.Pages(root, security)

    async def gate(request: Any, call_next: Any) -> Any:
        if not security.host_ok(request.headers.get("host")):
            return PlainTextResponse("Host not allowed (start with --allowed-host NAME to serve it)", 400)
        if request.url.path not in OPEN_PATHS and not security.token_ok(
                request.headers.get("authorization"), request.cookies.get(TOKEN_COOKIE)):
            if "text/html" in request.headers.get("accept", ""):
                return RedirectResponse("/login", 303)
            return PlainTextResponse("token required (Authorization: Bearer ...)", 401)
        cookie = request.cookies.get(CSRF_COOKIE)
        request.state.csrf_cookie = cookie or new_cookie()
        response = await call_next(request)
        if not cookie:
            response.set_cookie(CSRF_COOKIE, request.state.csrf_cookie, httponly=True, samesite="strict")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                    "frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    from starlette.middleware.base import BaseHTTPMiddleware

    routes = [
        Route("/", view.runs), Route("/runs", view.runs), Route("/runs/{run_id}", view.run),
        Route("/runs/{run_id}/divergence", view.divergence), Route("/banner", view.banner),
        Route("/alerts", view.alerts), Route("/plays", view.plays), Route("/plays/{play_id}", view.play),
        Route("/reports/{kind}/{name}", view.report), Route("/incidents", view.incidents),
        Route("/approvals", view.approvals), Route("/approvals/{request_id}", view.approval),
        Route("/approvals/{request_id}/bytes", view.approval_bytes),
        Route("/approvals/{request_id}/signature", view.upload_signature, methods=["POST"]),
        Route("/kill-switch", view.kill_switch), Route("/kill-switch/engage", view.engage, methods=["POST"]),
        Route("/metrics", view.metrics), Route("/login", view.login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=gate)],
                     exception_handlers={404: view.not_found})
