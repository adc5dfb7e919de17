"""The parents' web chat: FastAPI app factory (web.app), routers (web.routes), templates and static files."""
