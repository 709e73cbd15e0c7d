"""OpenAPI descriptions drf-spectacular cannot infer: the bearer key scheme, and which
routes the schema lists."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "consortium.api.access.BearerKeyAuthentication"
    name = "bearerKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_client`.",
        }


def canonical_paths(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular's preprocessing hook: document each route in its canonical form
    (with the trailing slash) only; the form without it answers the same."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
