"""The served schema: the committed SDL stays in sync with the code, and it holds the contract."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    print_ast,
)
from graphql.type import GraphQLArgument

from schema.export import served_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_sdl_is_what_the_code_serves() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == served_sdl(), "run: python -m schema.export > schema/schema.graphql"


def shown_default(argument: GraphQLArgument) -> str | None:
    """The default as the SDL writes it (graphql-core keeps SDL defaults as literals)."""
    default = argument.default
    return None if default is None or default.literal is None else print_ast(default.literal)


def contract_differences(contract: GraphQLSchema, served: GraphQLSchema) -> list[str]:
    """Every type, field, argument (with its default) and enum value of the contract that
    the served schema lacks or types differently."""
    missing: list[str] = []
    for name, wanted in contract.type_map.items():
        if name.startswith("__"):
            continue
        got = served.type_map.get(name)
        if got is None or type(got) is not type(wanted):
            missing.append(f"type {name}")
        elif isinstance(wanted, GraphQLEnumType) and isinstance(got, GraphQLEnumType):
            missing += [f"{name}.{value}" for value in wanted.values if value not in got.values]
        elif isinstance(wanted, GraphQLObjectType | GraphQLInputObjectType):
            assert isinstance(got, GraphQLObjectType | GraphQLInputObjectType)
            for field_name, field in wanted.fields.items():
                served_field = got.fields.get(field_name)
                if served_field is None or str(served_field.type) != str(field.type):
                    missing.append(f"field {name}.{field_name}: {field.type}")
                    continue
                for arg_name, arg in getattr(field, "args", {}).items():
                    served_arg = getattr(served_field, "args", {}).get(arg_name)
                    if (
                        served_arg is None
                        or str(served_arg.type) != str(arg.type)
                        or (
                            arg.default is not None
                            and shown_default(served_arg) != shown_default(arg)
                        )
                    ):
                        missing.append(f"argument {name}.{field_name}({arg_name})")
    return missing


def test_the_served_schema_holds_the_whole_public_contract() -> None:
    contract = build_schema((ROOT / "docs" / "contract.graphql").read_text())
    served = build_schema(served_sdl())
    assert contract_differences(contract, served) == []


def test_the_contract_check_notices_a_changed_default_or_a_missing_field() -> None:
    contract = build_schema((ROOT / "docs" / "contract.graphql").read_text())
    drifted = served_sdl().replace("pageSize: Int = 20", "pageSize: Int = 50", 1)
    drifted = drifted.replace("  trackingNumber: String\n", "", 1)
    assert contract_differences(contract, build_schema(drifted)) == [
        "field Order.trackingNumber: String",
        "argument Query.customerOrders(pageSize)",
    ]
