"""The emulated AWS services, one package or module each, as moto lays out its own.

Each declares its CloudFormation types (`RESOURCE_TYPES`: how one is created from a template
where moto's CloudFormation cannot, how it is read back through the service's API, why it is
not emulated), gathered by `cloudformation.registry`; and holds what the service runs beyond
moto, where it runs something: Glue job runs and crawls, the Redshift Data API and cluster
endpoints, Step Functions executions, log writing, S3 bucket policies.
"""
