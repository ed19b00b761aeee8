"""The Glue catalog database, the crawler, the jobs and the workflow that chains them.

One job per pipeline stage, each running the stage's script from the scripts bucket (under
its content hash: the artifact's key) on Glue 5.0, sized per environment, inside the VPC
through a network connection, with everything it writes (S3, logs, bookmarks) encrypted by the
security configuration. The workflow runs the stages in pipeline order, then the crawler.
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

from ecomdw.infra.artifact import LIBRARY, job_script
from ecomdw.infra.context import DELETE, StackContext
from ecomdw.infra.security import GLUE_LOG_GROUP_PREFIX
from ecomdw.infra.storage import GLUE_TEMP_PREFIX

CONCERN = "catalog"
GLUE_VERSION = "5.0"


def workflow_name(context: StackContext) -> str:
    return context.name("nightly")


def crawler_name(context: StackContext) -> str:
    return context.name("processed-crawler")


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
    log_group = template.add_resource(
        LogGroup(
            "GlueJobLogGroup",
            LogGroupName=f"{GLUE_LOG_GROUP_PREFIX}{names.prefix}",
            RetentionInDays=context.parameters.log_retention_days,
            KmsKeyId=context.imported("security", "OperationsKeyArn"),
            Tags=context.tags(),
            **DELETE,
        )
    )
    sizing = context.parameters.glue
    artifact = context.artifact
    for stage in context.pipeline.stages:
        job = template.add_resource(
            Job(
                f"{_title(stage)}Job",
                Name=names.glue_job(stage),
                Description=f"ecomdw pipeline stage: {stage}",
                Role=glue_role,
                GlueVersion=GLUE_VERSION,
                Command=JobCommand(
                    Name="glueetl",
                    PythonVersion="3",
                    ScriptLocation=f"s3://{names.scripts_bucket}/{artifact.key(job_script(stage))}",
                ),
                WorkerType=sizing.worker_type,
                NumberOfWorkers=sizing.workers,
                Timeout=sizing.timeout_minutes,
                MaxRetries=sizing.max_retries,
                ExecutionProperty=ExecutionProperty(MaxConcurrentRuns=1),
                SecurityConfiguration=Ref(security),
                Connections=ConnectionsList(Connections=[connection_name]),
                DefaultArguments={
                    "--ecomdw-env": context.settings.env.value,
                    "--extra-py-files": f"s3://{names.scripts_bucket}/{artifact.key(LIBRARY)}",
                    "--TempDir": f"s3://{names.scripts_bucket}/{GLUE_TEMP_PREFIX}",
                    "--job-bookmark-option": "job-bookmark-disable",
                    "--enable-metrics": "true",
                    "--enable-continuous-cloudwatch-log": "true",
                    "--continuous-log-logGroup": Ref(log_group),
                    "--enable-job-insights": "true",
                },
                Tags=context.tag_map(),
            )
        )
        job.DependsOn = [connection.title]
        context.export(template, CONCERN, f"{_title(stage)}JobName", Ref(job), f"Glue job: {stage}")
    crawler = template.add_resource(
        Crawler(
            "ProcessedCrawler",
            Name=crawler_name(context),
            Description="Discovers new partitions of the processed tables",
            Role=glue_role,
            DatabaseName=names.glue_database,
            Targets=Targets(S3Targets=[S3Target(Path=f"s3://{names.processed_bucket}/")]),
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


def _title(stage: str) -> str:
    return "".join(part.capitalize() for part in stage.replace("-", "_").split("_"))


def _workflow(context: StackContext, template: Template) -> None:
    """Start on demand (the schedule starts it), each stage after the previous succeeded."""
    names = context.names
    name = workflow_name(context)
    template.add_resource(
        Workflow(
            "Workflow",
            Name=name,
            Description="ecomdw nightly: the Glue stages in pipeline order, then the crawler",
            MaxConcurrentRuns=1,
            Tags=context.tag_map(),
        )
    )
    stages = context.pipeline.stages
    start = template.add_resource(
        Trigger(
            "StartTrigger",
            Name=f"{name}-start",
            Type="ON_DEMAND",
            WorkflowName=Ref("Workflow"),
            Actions=[Action(JobName=names.glue_job(stages[0]))],
        )
    )
    start.DependsOn = [f"{_title(stages[0])}Job"]
    followers: list[tuple[str, Action, str]] = [
        (stage, Action(JobName=names.glue_job(stage)), f"{_title(stage)}Job")
        for stage in stages[1:]
    ]
    followers.append(("crawl", Action(CrawlerName=crawler_name(context)), "ProcessedCrawler"))
    previous = stages[0]
    for step, action, target in followers:
        trigger = template.add_resource(
            Trigger(
                f"After{_title(previous)}Trigger",
                Name=f"{name}-after-{previous}",
                Type="CONDITIONAL",
                StartOnCreation=True,
                WorkflowName=Ref("Workflow"),
                Predicate=Predicate(
                    Conditions=[
                        Condition(
                            LogicalOperator="EQUALS",
                            JobName=names.glue_job(previous),
                            State="SUCCEEDED",
                        )
                    ]
                ),
                Actions=[action],
            )
        )
        trigger.DependsOn = [f"{_title(previous)}Job", target]
        previous = step
