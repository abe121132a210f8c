"""Rectification notices (整改通知, docs/notices.md): items, numbering, issue, rendering, delivery.

Import the submodules directly; this package module stays empty so that
``netwatch.store.migrations`` can import the schema without the rest.
"""
