"""The HTTP API. Build it with :func:`iris3d.api.app.create_app`; nothing is made at import."""
