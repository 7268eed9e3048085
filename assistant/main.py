"""The ASGI app for uvicorn: ``assistant.main:app``."""

from assistant.app import create_app

app = create_app()
