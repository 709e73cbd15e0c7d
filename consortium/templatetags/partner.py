"""Template filters of the partner view: ``{{ "partly_paid"|words }}`` is "partly paid"."""

from django import template

from consortium.domain.vocabulary import label

register = template.Library()
register.filter("words", label)  # a code of the domain (a role, a call's status) as words
