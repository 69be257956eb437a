"""OpenAPI 3.1 from the compiled routes, with Swagger UI and ReDoc served offline."""

from __future__ import annotations

from .decorators import Descriptor, open_api_docs
from .generator import generate_openapi, is_documented, openapi_path
from .schemas import ErrorDetail, ErrorResponse
from .ui import install_openapi, openapi_enabled

__all__ = (
    "Descriptor",
    "ErrorDetail",
    "ErrorResponse",
    "generate_openapi",
    "install_openapi",
    "is_documented",
    "open_api_docs",
    "openapi_enabled",
    "openapi_path",
)
