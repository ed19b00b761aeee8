"""The emulated clusters' endpoints: PostgreSQL's wire protocol over the Data API's warehouse.

psql, redshift_connector, psycopg, SQLAlchemy and BI tools connect to a cluster's advertised
Endpoint with its master user (or a user made with CREATE USER) and run Redshift SQL, which
the translator runs on the cluster's DuckDB file (`server`, `connection`, `session`).
"""

from .server import ClusterEndpoint, RedshiftEndpoints

__all__ = ["ClusterEndpoint", "RedshiftEndpoints"]
