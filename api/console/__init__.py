"""The web console: server-rendered Jinja2 pages under ``/console`` with plain JavaScript.

Pages render with the principal of the ``trunkline_key`` cookie; the page scripts call the JSON
API with that cookie and the ``X-CSRF-Token`` header (see ``docs/console.md``).
"""
