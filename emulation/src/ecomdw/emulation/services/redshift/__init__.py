"""Redshift: the Data API on DuckDB and the clusters' endpoints."""
