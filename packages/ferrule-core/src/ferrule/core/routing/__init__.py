"""Routing: compiled routes and the Werkzeug-backed router."""

from .route import Route
from .router import Router

__all__ = ("Route", "Router")
