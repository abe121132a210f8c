"""Field survey readings (docs/coverage.md): validation, storage, idempotent ingestion, CSV import.

Import the submodules directly; this package module stays empty so that
``netwatch.store.migrations`` can import the schema without the rest.
"""
