"""Who issues a command: the identity the write side authorizes and records."""

from __future__ import annotations

from dataclasses import dataclass

STAFF_ROLE = "staff"


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who issues a command: decides what they may do, and is recorded in each event's metadata.

    Staff may do anything; anyone else is a customer whose customer id is `sub`.
    """

    sub: str
    roles: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        return STAFF_ROLE in self.roles

    def as_metadata(self) -> dict[str, object]:
        # a list, not a tuple: the metadata is stored as JSON and read back as a list
        return {"sub": self.sub, "roles": list(self.roles)}


# the CLI's demo loader and other operator tools, which act on behalf of no customer
SYSTEM = Actor(sub="system", roles=(STAFF_ROLE,))
# every caller when the service runs with AUTH=off: nothing is checked, as before identity
ANONYMOUS = Actor(sub="anonymous", roles=(STAFF_ROLE,))
