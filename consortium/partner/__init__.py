"""The partner view (``/partner/``): a ``partner:<organisation>`` user's own positions and
capital calls, read-only, outside the workspace (a partner user is not staff).

- ``views``: sign in and out (Django's views, in the theme's unauthenticated layout) and
  the one page, read from the projections (``consortium.projections.selectors``) and
  narrowed to the user's organisations as the API narrows a partner's reads
  (``consortium.roles.partner_organisations``);
- ``urls``: mounted at ``/partner/`` under the namespace ``partner``.
"""
