"""A seed-style application laid out as a package, for import-string tests."""
