"""Authorization scopes. Each scope includes the ones below it."""

from enum import StrEnum


class Scope(StrEnum):
    READ = "read"
    OPERATE = "operate"
    ADMIN = "admin"


_RANK = {Scope.READ: 0, Scope.OPERATE: 1, Scope.ADMIN: 2}


def grants(held: frozenset[Scope], needed: Scope) -> bool:
    return any(_RANK[scope] >= _RANK[needed] for scope in held)


def parse_scopes(raw: object) -> frozenset[Scope]:
    """Scopes from a JWT claim: a space-separated string or a list; unknown names are ignored."""
    names = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in names if isinstance(name, str) and name in known)
