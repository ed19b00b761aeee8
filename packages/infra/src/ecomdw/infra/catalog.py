"""The Glue catalog database, the crawler, the jobs and the workflow that chains them.

One job per Glue step of the pipeline (`ecomdw.etl.pipeline`), each running its script from the
scripts bucket (under its content hash: the artifact's key) on Glue 5.0 with the step's
arguments, sized per environment, inside the VPC through a network connection, with everything
it writes (S3, logs, bookmarks) encrypted by the security configuration. The workflow is the
pipeline's: its scheduled trigger starts the first job, each success the next, then the crawl.
"""

from __future__ import annotations

from troposphere import Ref, Template
from troposphere.glue import (
    Action,
    CloudWatchEncryption,
    Condition,
    Connection,
    ConnectionInput,
    ConnectionsList,
    Crawler,
    Database,
    DatabaseInput,
    EncryptionConfiguration,
    ExecutionProperty,
    Job,
    JobBookmarksEncryption,
    JobCommand,
    PhysicalConnectionRequirements,
    Predicate,
    S3Encryption,
    S3Target,
    SchemaChangePolicy,
    SecurityConfiguration,
    Targets,
    Trigger,
    Workflow,
)
from troposphere.logs import LogGroup

from ecomdw.core.names import ResourceNames
from ecomdw.core.processed import STAGED, WAREHOUSE
from ecomdw.etl.pipeline import PENDING_BATCHES, GlueJob, glue_workflow_triggers
from ecomdw.infra.artifact import LIBRARY
from ecomdw.infra.context import DELETE, StackContext
from ecomdw.infra.pipeline import script_file
from ecomdw.infra.security import GLUE_LOG_GROUP_PREFIX
from ecomdw.infra.storage import GLUE_TEMP_PREFIX

CONCERN = "catalog"
GLUE_VERSION = "5.0"


def build(context: StackContext) -> Template:
    template = context.new_template("Glue catalog, crawler, jobs and workflow")
    names = context.names
    glue_role = context.imported("security", "GlueRoleArn")
    template.add_resource(
        Database(
            "GlueDatabase",
            CatalogId=Ref("AWS::AccountId"),
            DatabaseInput=DatabaseInput(
                Name=names.glue_database,
                Description="ecomdw: raw landing files and processed tables",
            ),
        )
    )
    security = template.add_resource(
        SecurityConfiguration(
            "GlueSecurityConfiguration",
            Name=context.name("glue"),
            EncryptionConfiguration=EncryptionConfiguration(
                S3Encryptions=[
                    S3Encryption(
                        S3EncryptionMode="SSE-KMS",
                        KmsKeyArn=context.imported("security", "DataKeyArn"),
                    )
                ],
                CloudWatchEncryption=CloudWatchEncryption(
                    CloudWatchEncryptionMode="SSE-KMS",
                    KmsKeyArn=context.imported("security", "OperationsKeyArn"),
                ),
                JobBookmarksEncryption=JobBookmarksEncryption(
                    JobBookmarksEncryptionMode="CSE-KMS",
                    KmsKeyArn=context.imported("security", "DataKeyArn"),
                ),
            ),
        )
    )
    connection_name = context.name("private-subnet")
    connection = template.add_resource(
        Connection(
            "GlueNetworkConnection",
            CatalogId=Ref("AWS::AccountId"),
            ConnectionInput=ConnectionInput(
                Name=connection_name,
                ConnectionType="NETWORK",
                Description="Run Glue jobs inside the private subnets",
                PhysicalConnectionRequirements=PhysicalConnectionRequirements(
                    SubnetId=context.imported("network", "PrivateSubnet1Id"),
                    SecurityGroupIdList=[context.imported("network", "GlueSecurityGroupId")],
                    AvailabilityZone=context.imported("network", "GlueAvailabilityZone"),
                ),
            ),
        )
    )
    # Glue 5.0 writes a job's logs to `<--custom-logGroup-prefix>/output` (the script's stdout
    # and stderr) and `/error` (Glue's and Spark's own): both created here, encrypted and kept
    # for the environment's retention ("Logging for AWS Glue jobs").
    log_prefix = f"{GLUE_LOG_GROUP_PREFIX}{names.prefix}"
    for stream in ("output", "error"):
        template.add_resource(
            LogGroup(
                f"GlueJob{stream.capitalize()}LogGroup",
                LogGroupName=f"{log_prefix}/{stream}",
                RetentionInDays=context.parameters.log_retention_days,
                KmsKeyId=context.imported("security", "OperationsKeyArn"),
                Tags=context.tags(),
                **DELETE,
            )
        )
    sizing = context.parameters.glue
    artifact = context.artifact
    for step in context.pipeline.jobs:
        script = artifact.key(script_file(step))
        job = template.add_resource(
            Job(
                job_title(step.name),
                Name=names.glue_job(step.name),
                Description=f"ecomdw pipeline step: {step.name}",
                Role=glue_role,
                GlueVersion=GLUE_VERSION,
                Command=JobCommand(
                    Name="glueetl",
                    PythonVersion="3",
                    ScriptLocation=f"s3://{names.scripts_bucket}/{script}",
                ),
                WorkerType=sizing.worker_type,
                NumberOfWorkers=sizing.workers,
                Timeout=sizing.timeout_minutes,
                MaxRetries=sizing.max_retries,
                ExecutionProperty=ExecutionProperty(MaxConcurrentRuns=1),
                SecurityConfiguration=Ref(security),
                Connections=ConnectionsList(Connections=[connection_name]),
                DefaultArguments={
                    **job_arguments(names, step),
                    "--ecomdw-env": context.settings.env.value,
                    "--extra-py-files": f"s3://{names.scripts_bucket}/{artifact.key(LIBRARY)}",
                    "--TempDir": f"s3://{names.scripts_bucket}/{GLUE_TEMP_PREFIX}",
                    "--job-bookmark-option": "job-bookmark-disable",
                    "--enable-metrics": "true",
                    "--custom-logGroup-prefix": log_prefix,
                    "--enable-job-insights": "true",
                },
                Tags=context.tag_map(),
            )
        )
        job.DependsOn = [connection.title, "GlueJobOutputLogGroup", "GlueJobErrorLogGroup"]
        context.export(
            template, CONCERN, f"{_title(step.name)}JobName", Ref(job), f"Glue job: {step.name}"
        )
    crawler = template.add_resource(
        Crawler(
            "ProcessedCrawler",
            Name=names.glue_crawler,
            Description="Discovers new partitions of the processed tables",
            Role=glue_role,
            DatabaseName=names.glue_database,
            # The tables only: not the jobs' markers (`_jobs/`) beside them.
            Targets=Targets(
                S3Targets=[
                    S3Target(Path=f"s3://{names.processed_bucket}/{area}/")
                    for area in (STAGED, WAREHOUSE)
                ]
            ),
            SchemaChangePolicy=SchemaChangePolicy(UpdateBehavior="LOG", DeleteBehavior="LOG"),
            CrawlerSecurityConfiguration=Ref(security),
            Tags=context.tag_map(),
        )
    )
    crawler.DependsOn = ["GlueDatabase"]
    _workflow(context, template)
    context.export(template, CONCERN, "GlueDatabaseName", names.glue_database, "Glue database")
    context.export(template, CONCERN, "CrawlerName", Ref(crawler), "Processed-data crawler")
    context.export(template, CONCERN, "WorkflowName", Ref("Workflow"), "Glue workflow")
    return template


def _title(step: str) -> str:
    return "".join(part.capitalize() for part in step.replace("-", "_").split("_"))


def job_title(step: str) -> str:
    return f"{_title(step)}Job"


def job_arguments(names: ResourceNames, job: GlueJob) -> dict[str, str]:
    """What the job script reads beyond the run's own `--run_id` and `--batch_dates`: where
    the data is, and the step's own arguments. Started without a run's arguments (by the
    workflow), a job takes every pending batch."""
    return {
        "--raw_uri": f"s3://{names.raw_bucket}",
        "--processed_uri": f"s3://{names.processed_bucket}",
        "--batch_dates": PENDING_BATCHES,
        **dict(job.arguments),
    }


def _workflow(context: StackContext, template: Template) -> None:
    """The pipeline's workflow triggers (`glue_workflow_triggers`), as CloudFormation."""
    names = context.names
    template.add_resource(
        Workflow(
            "Workflow",
            Name=names.glue_workflow,
            Description="ecomdw nightly: the pipeline's Glue jobs in order, then the crawler",
            MaxConcurrentRuns=1,
            Tags=context.tag_map(),
        )
    )
    titles = {names.glue_job(job.name): job_title(job.name) for job in context.pipeline.jobs}
    titles[names.glue_crawler] = "ProcessedCrawler"
    for position, trigger in enumerate(glue_workflow_triggers(context.pipeline.pipeline, names)):
        predicate = trigger.get("Predicate")
        resource = template.add_resource(
            Trigger(
                "StartTrigger" if position == 0 else f"Trigger{position}",
                Name=trigger["Name"],
                Type=trigger["Type"],
                StartOnCreation=trigger["StartOnCreation"],
                WorkflowName=Ref("Workflow"),
                Actions=[Action(**action) for action in trigger["Actions"]],
                **({"Schedule": trigger["Schedule"]} if "Schedule" in trigger else {}),
                **(
                    {
                        "Predicate": Predicate(
                            Logical=predicate["Logical"],
                            Conditions=[Condition(**c) for c in predicate["Conditions"]],
                        )
                    }
                    if predicate
                    else {}
                ),
            )
        )
        named = [a.get("JobName") or a["CrawlerName"] for a in trigger["Actions"]]
        if predicate:
            named += [c["JobName"] for c in predicate["Conditions"]]
        resource.DependsOn = sorted({titles[name] for name in named})
