"""Template filters of the partner view: ``{{ "partly_paid"|words }}`` is "partly paid"."""

from django import template

register = template.Library()


@register.filter
def words(code: str) -> str:
    """A code of the domain (a role, a call's status) as words."""
    return str(code).replace("_", " ")
