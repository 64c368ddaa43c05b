"""Input objects built straight from the values graphql-core has already coerced.

Strawberry converts an input argument field by field, resolving each field's type anew on
every request: for createOrder's input that cost a tenth of the request's server time. The
shape of an input type never changes, so `built_directly` works it out once per type, and
then only calls the classes. graphql-core has coerced every leaf (scalars, enums) and
refused missing or null required fields before any of this runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    StrawberryType,
    get_object_definition,
)

T = TypeVar("T", bound=type)

Build = Callable[[Any, InputContext], Any]
# per input class: (GraphQL name, Python name, how to build the field's value or None
# for a leaf taken as it is)
_plans: dict[type, list[tuple[str, str, Build | None]]] = {}


def built_directly(cls: T) -> T:
    """Make Strawberry build the input class `cls` here (its definition's `from_input` hook)."""
    get_object_definition(cls, strict=True).from_input = _build
    return cls


def _build(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = _plan(cls, context)
    kwargs = {}
    for graphql_name, python_name, build in plan:
        if graphql_name in value:
            field = value[graphql_name]
            kwargs[python_name] = field if build is None or field is None else build(field, context)
    return cls(**kwargs)


def _plan(cls: type, context: InputContext) -> list[tuple[str, str, Build | None]]:
    definition = get_object_definition(cls, strict=True)
    return [
        (
            context.config.name_converter.from_field(field),
            field.python_name,
            _builder(field.resolve_type(type_definition=definition)),
        )
        for field in definition.fields
    ]


def _builder(type_: StrawberryType | type) -> Build | None:
    """How to build a value of `type_`; None when graphql-core's value is already it."""
    if isinstance(type_, StrawberryOptional):
        return _builder(type_.of_type)
    if isinstance(type_, StrawberryList):
        item = _builder(type_.of_type)
        if item is None:
            # a copy: graphql-core gives every request that omits it the same default
            return lambda items, _: list(items)
        return lambda items, context: [None if i is None else item(i, context) for i in items]
    definition = get_object_definition(type_)
    if definition is not None and definition.from_input is _build:
        nested: type = definition.origin
        return lambda value, context: _build(nested, value, context)
    if definition is not None or isinstance(type_, StrawberryType):
        # what else Strawberry converts (none of the service's inputs): as it does
        return lambda value, context: context.convert(value, type_)
    return None  # a scalar or an enum: graphql-core has coerced it
