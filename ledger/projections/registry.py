"""The projections this installation maintains, registered by the apps that define them."""

from ledger.projections.base import Projection

_projections: dict[str, Projection] = {}


def register(projection: Projection) -> Projection:
    """Register one projection instance (at app start-up, from ``AppConfig.ready``)."""
    existing = _projections.get(projection.name)
    if existing is not None and type(existing) is not type(projection):
        raise ValueError(f"Two projections are named {projection.name!r}.")
    _projections[projection.name] = projection
    return projection


def get(name: str) -> Projection:
    try:
        return _projections[name]
    except KeyError:
        known = ", ".join(sorted(_projections)) or "none"
        raise KeyError(f"No projection is named {name!r} (known: {known}).") from None


def names() -> list[str]:
    return sorted(_projections)
