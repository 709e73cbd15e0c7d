"""OpenAPI descriptions drf-spectacular cannot infer: the bearer key scheme, the
characters free text may hold, the form of the ids in paths, and which routes the schema
lists."""

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)

from consortium.domain.identifiers import (
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_PATTERN,
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
)

_SLUG = {"pattern": SLUG_PATTERN, "maxLength": SLUG_MAX_LENGTH}
_IDENTIFIER = {"pattern": IDENTIFIER_PATTERN, "maxLength": IDENTIFIER_MAX_LENGTH}
# Each id a path carries, as the domain writes it (``consortium.domain.identifiers``).
PATH_IDS = {
    "slug": _SLUG,
    "partner": _SLUG,
    "asset": _IDENTIFIER,
    "id": _IDENTIFIER,
    "call": _IDENTIFIER,
    "commitment": _IDENTIFIER,
    "contribution": _IDENTIFIER,
    "facility": _IDENTIFIER,
    "distribution": _IDENTIFIER,  # --- distributions ---
}


class BearerKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "consortium.api.access.BearerKeyAuthentication"
    name = "bearerKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_client`.",
        }


class TextFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """A free-text field as drf-spectacular maps a CharField (``maxLength`` from its
    ``max_length``), plus the ``pattern`` of the characters its kind allows."""

    target_class = "consortium.api.write_serializers.TextField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        schema["pattern"] = self.target.kind.pattern
        return schema


def canonical_paths(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular's preprocessing hook: document each route in its canonical form
    (with the trailing slash) only; the form without it answers the same."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]


def path_id_limits(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's postprocessing hook: every id in a path states its pattern and
    ``maxLength`` (Django's ``<str:...>`` converter says only "a string")."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                limits = PATH_IDS.get(parameter.get("name", ""))
                schema = parameter.setdefault("schema", {})
                # A string id only: a number (a stored report's ``{id}``) has no pattern.
                if parameter.get("in") == "path" and limits and schema.get("type") == "string":
                    schema.update(limits)
    return result
