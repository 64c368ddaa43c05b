"""Print the SDL of the served schema: `python -m schema.export > schema/schema.graphql`."""

from __future__ import annotations

from schema.app import build_schema
from schema.settings import Settings


def served_sdl() -> str:
    # the database URL plays no part in the schema's shape
    return build_schema(Settings(database_url="sqlite+aiosqlite://")).as_str() + "\n"


if __name__ == "__main__":
    print(served_sdl(), end="")
