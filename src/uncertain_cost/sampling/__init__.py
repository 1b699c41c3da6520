"""Random inputs as scoped columns: layout, counter-based keyed streams, correlations."""
