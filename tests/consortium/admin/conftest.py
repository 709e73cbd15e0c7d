"""Fixtures of the workspace's rooms, each room's in its own support module."""

from tests.consortium.admin.commands_support import browser_for, submit, world  # noqa: F401
