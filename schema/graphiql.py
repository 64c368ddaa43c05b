"""GraphiQL served by the service itself: its page, its bootstrap script and the vendored assets."""

from __future__ import annotations

import json
import os
from functools import cache
from html import escape
from pathlib import Path
from typing import Literal, TypedDict

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

ASSETS_PATH = "/graphiql"
# Beside this module rather than through importlib.resources: StaticFiles needs a real directory.
_STATIC_DIR = Path(__file__).parent / "static" / "graphiql"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # Opening a GraphiQL dialog (settings, shortcuts) injects a <style> for its scroll lock
        # (react-remove-scroll-bar): left blocked, since page.css already keeps the body from
        # scrolling and the dialogs work the same (checked in Chromium); it logs one violation.
        "style-src 'self'",
        # graphiql.min.css embeds its fonts (woff, woff2) and a few icons (png) as data: URLs,
        # and the favicon is a data: SVG, so no request is made for /favicon.ico.
        "img-src 'self' data:",
        "font-src 'self' data:",
        # The fetcher POSTs to the endpoint; 'self' also covers ws:/wss: to the same host and port
        # (CSP level 3), which subscriptions use.
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
# Vendored files carry their version in their path, so their content never changes under a URL.
_IMMUTABLE = "public, max-age=31536000, immutable"
# The bootstrap and the page's stylesheet change with the service: revalidate (ETag) each time.
_REVALIDATE = "no-cache"
_FAVICON = (
    "data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 100 100%22>"
    "<text y=%22.9em%22 font-size=%2280%22>&#x1f353;</text></svg>"
)


class _Asset(TypedDict):
    kind: Literal["script", "style"]
    file: str
    integrity: str


class _License(TypedDict):
    file: str


class _Manifest(TypedDict):
    assets: list[_Asset]
    licenses: list[_License]


@cache
def _manifest() -> _Manifest:
    """What scripts/vendor_graphiql.py vendored, in the order Strawberry's page loads it."""
    text = (_STATIC_DIR / "vendor" / "manifest.json").read_text("utf-8")
    manifest: _Manifest = json.loads(text)
    return manifest


@cache
def _page(graphql_path: str, default_document: str) -> str:
    vendored = _manifest()["assets"]
    styles = [
        f'<link rel="stylesheet" href="{ASSETS_PATH}/vendor/{asset["file"]}" '
        f'integrity="{asset["integrity"]}">'
        for asset in vendored
        if asset["kind"] == "style"
    ]
    scripts = [
        f'<script src="{ASSETS_PATH}/vendor/{asset["file"]}" '
        f'integrity="{asset["integrity"]}"></script>'
        for asset in vendored
        if asset["kind"] == "script"
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            "<title>Strawberry GraphiQL</title>",
            f'<link rel="icon" href="{_FAVICON}">',
            *styles,
            f'<link rel="stylesheet" href="{ASSETS_PATH}/page.css">',
            "</head>",
            "<body>",
            f'<div id="graphiql" class="graphiql-container" '
            f'data-graphql-path="{escape(graphql_path)}" '
            f'data-default-document="{escape(default_document)}">Loading...</div>',
            *scripts,
            f'<script src="{ASSETS_PATH}/init.js"></script>',
            "</body>",
            "</html>",
            "",
        ]
    )


def graphiql_page(graphql_path: str = "/graphql", default_document: str = "") -> HTMLResponse:
    """GraphiQL for the endpoint at graphql_path, loading nothing but this service's own files,
    opening with `default_document` (in an attribute: no inline script under the CSP)."""
    return HTMLResponse(
        _page(graphql_path, default_document),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


class _AssetFiles(StaticFiles):
    def __init__(self, immutable: frozenset[str]) -> None:
        super().__init__(directory=_STATIC_DIR)
        self._immutable = immutable

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        cacheable = self.get_path(scope) in self._immutable
        response.headers["Cache-Control"] = _IMMUTABLE if cacheable else _REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def graphiql_assets() -> Mount:
    """The page's files, under ASSETS_PATH: init.js, page.css and vendor/ (assets, licenses)."""
    manifest = _manifest()
    vendored = [entry["file"] for entry in [*manifest["assets"], *manifest["licenses"]]]
    immutable = frozenset(os.path.normpath(os.path.join("vendor", file)) for file in vendored)
    return Mount(ASSETS_PATH, app=_AssetFiles(immutable), name="graphiql")
