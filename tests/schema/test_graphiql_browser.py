"""GraphiQL works in headless Chromium with the network closed and its CSP enforced."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import ConsoleMessage, Page, Route, WebSocket, expect, sync_playwright
from starlette.types import ASGIApp

from schema.app import create_app
from schema.graphiql import CONTENT_SECURITY_POLICY
from schema.settings import Settings
from tests.conftest import sqlite_url

# A real read of the service: the projections are known from its first start.
QUERY = "{ projections { name } }"
EXPECTED = {"data": {"projections": [{"name": "order_views"}, {"name": "customer_summaries"}]}}
INSTALL_CHROMIUM = "command -v chromium || (apt-get update -q && apt-get install -y -q chromium)"
# Run in the page before its own scripts: CSP violations are reported to the document as events.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def app(tmp_path: Path) -> ASGIApp:
    return create_app(Settings(database_url=sqlite_url(tmp_path)))


@pytest.fixture
def served_url(app: ASGIApp) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread of this process."""
    # Listening before uvicorn starts: the browser's first connection waits in the backlog, so
    # there is no start-up to poll for.
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        listener.close()


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"Chromium is not installed; install it with: {INSTALL_CHROMIUM}")
    return path


def response_json(page: Page) -> object:
    lines = page.locator(".graphiql-response .CodeMirror-line").all_inner_texts()
    # CodeMirror renders indentation with non-breaking spaces, an empty line as a zero-width space.
    return json.loads("\n".join(lines).replace("\xa0", " ").replace("\u200b", ""))


def test_graphiql_runs_a_query_offline_under_its_csp(chromium: str, served_url: str) -> None:
    origin = urlsplit(served_url)
    contacted: list[str] = []
    console_errors: list[str] = []

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin.netloc:
            route.continue_()
        else:
            route.abort("addressunreachable")

    def record_request_url(url: str) -> None:
        if not url.startswith("data:"):
            contacted.append(url)

    def record_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    def record_websocket(websocket: WebSocket) -> None:
        contacted.append(websocket.url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--disable-gpu",
                "--disable-quic",
                # The browser itself resolves no name but the loopback address it is given.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        try:
            context = browser.new_context()
            context.route("**/*", local_only)
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            page = context.new_page()
            page.on("request", lambda request: record_request_url(request.url))
            page.on("websocket", record_websocket)
            page.on("console", record_console)
            page.on("pageerror", lambda error: console_errors.append(str(error)))

            response = page.goto(f"{served_url}/graphql", wait_until="load")
            assert response is not None
            assert response.status == 200
            # Otherwise the absence of violations below would prove nothing.
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

            editor = page.locator(".graphiql-query-editor .CodeMirror")
            expect(editor).to_be_visible()
            editor.click()
            page.keyboard.press("Control+A")
            # one insertion, not keystrokes: typed braces race the editor's auto-close and hints
            page.keyboard.insert_text(QUERY)
            # the lines of the text only: CodeMirror keeps one to measure with beside them once
            # the (long) default document has been shown
            lines = page.locator(".graphiql-query-editor .CodeMirror-code .CodeMirror-line")
            expect(lines).to_have_text([QUERY])
            # the button offers the default document's operations in a menu until the editor
            # has parsed the new text: it runs the query only once that menu has gone
            execute = page.locator(".graphiql-execute-button")
            expect(execute).not_to_have_attribute("aria-haspopup", "menu")
            execute.click()
            expect(page.locator(".graphiql-response .CodeMirror-code")).to_contain_text('"data"')

            assert response_json(page) == EXPECTED
            assert page.evaluate("window.cspViolations") == []
        finally:
            browser.close()

    assert contacted, "the page made no request at all"
    assert [url for url in contacted if urlsplit(url).netloc != origin.netloc] == []
    assert console_errors == []


def test_graphiql_opens_with_the_default_document_and_runs_each_operation(
    chromium: str, served_url: str
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--disable-gpu"])
        try:
            # tall enough for every line of the document: CodeMirror renders the visible ones
            context = browser.new_context(viewport={"width": 1280, "height": 2400})
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            page = context.new_page()
            page.goto(f"{served_url}/graphql", wait_until="load")
            editor = page.locator(".graphiql-query-editor .CodeMirror-code")
            expect(editor).to_contain_text("mutation CreateAndReadBack")
            # the service's document, not GraphiQL's welcome
            assert "Welcome to GraphiQL" not in editor.inner_text()

            def run(operation: str) -> object:
                # Ctrl-Enter runs the operation under the cursor, as the document says (the
                # play button's menu would inject a <style>, which the CSP blocks)
                editor.get_by_text(operation, exact=False).first.click()
                page.keyboard.press("Control+Enter")
                expect(page.locator(".graphiql-response .CodeMirror-code")).to_contain_text(
                    f'"{first_field[operation]}"'
                )
                # a subscription's response ends with its last message: wait for it
                if operation == "Consistency":
                    expect(page.locator(".graphiql-execute-button")).to_have_attribute(
                        "aria-label", "Execute query (Ctrl-Enter)"
                    )
                return response_json(page)

            first_field = {
                "CreateAndReadBack": "createOrder",
                "CustomerOrders": "customerOrders",
                "Consistency": "consistency",
            }
            created = run("CreateAndReadBack")
            assert isinstance(created, dict)
            order = created["data"]["createOrder"]["order"]
            assert order == {**order, "status": "PENDING", "itemCount": 2, "totalAmount": "19.98"}
            listed = run("CustomerOrders")
            assert isinstance(listed, dict)
            ids = [item["id"] for item in listed["data"]["customerOrders"]["items"]]
            assert created["data"]["createOrder"]["orderId"] in ids
            reached = run("Consistency")
            assert isinstance(reached, dict)
            assert reached["data"]["consistency"]["reached"] is True
            assert page.evaluate("window.cspViolations") == []
        finally:
            browser.close()
