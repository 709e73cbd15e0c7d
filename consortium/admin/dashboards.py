"""Workspace room: dashboards (see ``consortium.admin``)."""

from django.urls import URLPattern


def urls() -> list[URLPattern]:
    return []
