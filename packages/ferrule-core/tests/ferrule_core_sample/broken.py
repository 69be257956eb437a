"""A module whose own import fails (for import-string error messages)."""

import ferrule_core_sample_missing_dependency  # noqa: F401
