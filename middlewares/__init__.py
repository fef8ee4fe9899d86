"""Middlewares: small request/response hooks, registered in order by the app factory."""
