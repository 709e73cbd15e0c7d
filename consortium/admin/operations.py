"""Workspace room: operations (see ``consortium.admin``)."""

from django.urls import URLPattern


def urls() -> list[URLPattern]:
    return []
