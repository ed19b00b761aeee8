"""Redshift: its CloudFormation types, the Data API on DuckDB, the clusters' endpoints."""
