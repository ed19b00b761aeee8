"""ecomdw's pytest plugin: test your own Glue jobs, Redshift SQL and state machines offline.

Installing `ecomdw` registers the plugin (entry point `pytest11`, name `ecomdw`: `plugin`);
nothing to configure. Its fixtures: `aws_emulator` (the session's AWS), `aws` (boto3 clients,
an emptied emulator for each test), `glue_job` (runs a script as a Glue 5.0 job), `redshift`
(Redshift SQL on a fresh warehouse), `state_machine` (runs ASL, or an ecomdw pipeline, to its
end) and `spark` (local Spark whose `s3://` is the session's S3). `--ecomdw-target=emulator|
localstack|aws` picks what they run against. `strategies` draws the model's records for
hypothesis. The types the fixtures give are in `targets`, `glue`, `warehouse` and `states`.
See docs/pytest-plugin.md.
"""
