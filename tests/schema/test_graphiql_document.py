"""The document GraphiQL opens with: valid against the served schema, and telling how to send
a token exactly when the service requires one."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, parse, validate

from schema.app import build_schema, create_app
from schema.graphiql_document import default_document
from schema.identity.settings import AuthSettings
from schema.settings import Settings
from tests.conftest import sqlite_url

SECRET = "a shared secret of the graphiql document test, 32+ bytes"
_ATTRIBUTE = re.compile(r'data-default-document="([^"]*)"')


@pytest.mark.parametrize("required", [True, False])
def test_the_default_document_is_valid_and_names_its_three_operations(
    tmp_path: Path, required: bool
) -> None:
    schema = build_schema(Settings(database_url=sqlite_url(tmp_path)))
    document = parse(default_document(authentication_required=required))
    assert validate(schema._schema, document) == []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert [(o.operation.value, o.name and o.name.value) for o in operations] == [
        ("mutation", "CreateAndReadBack"),
        ("query", "CustomerOrders"),
        ("subscription", "Consistency"),
    ]


@pytest.mark.parametrize(
    ("auth", "explains_the_token"),
    [(AuthSettings(jwt_secret=SECRET), True), (AuthSettings.off(), False)],
    ids=["authentication-on", "authentication-off"],
)
async def test_the_served_page_opens_with_the_document(
    tmp_path: Path, auth: AuthSettings, explains_the_token: bool
) -> None:
    app = create_app(Settings(database_url=sqlite_url(tmp_path), projections=False, auth=auth))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    found = _ATTRIBUTE.search(response.text)
    assert found is not None
    document = html.unescape(found.group(1))
    assert document == default_document(authentication_required=explains_the_token)
    assert ('"Authorization": "Bearer <the token>"' in document) is explains_the_token
    assert ("Headers tab" in document) is explains_the_token
