"""Glue job scripts: each file runs in AWS Glue, under spark-submit, and as `python <file>`."""
