"""The consortium domain: events, decisions, services, projections, API, admin, reports."""
