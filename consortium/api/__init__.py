"""The finance systems' REST API (``/api/v1/``): thin views over services and selectors."""
