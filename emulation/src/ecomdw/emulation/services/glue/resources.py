"""Glue's CloudFormation types: the catalog's database, connection, security configuration,
jobs, crawlers, the workflow and its triggers. moto's CloudFormation has a model for none."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import FieldMap, subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)

ENCRYPTION = FieldMap({"S3Encryptions": "S3Encryption"}, others=True)
"""A security configuration's encryption: CloudFormation says `S3Encryptions`, the API
`S3Encryption`."""
JOB_FIELDS = (
    "Description",
    "Role",
    "GlueVersion",
    "Command",
    "WorkerType",
    "NumberOfWorkers",
    "Timeout",
    "MaxRetries",
    "ExecutionProperty",
    "SecurityConfiguration",
    "Connections",
    "DefaultArguments",
)
"""A job's properties besides its name and tags, spelled alike in the template and the API."""
CRAWLER_FIELDS = (
    "Description",
    "Role",
    "DatabaseName",
    "Targets",
    "SchemaChangePolicy",
    "CrawlerSecurityConfiguration",
)
"""A crawler's, likewise."""
WORKFLOW_FIELDS = ("Description", "MaxConcurrentRuns")
"""A workflow's, likewise."""
TRIGGER_FIELDS = ("Type", "WorkflowName", "Actions", "Schedule")
"""A trigger's, likewise (besides `Predicate` and `StartOnCreation`)."""


def _tags(r: Reading, resource: str) -> dict[str, str]:
    """The tags of the Glue `resource` (`job/<name>`, ...)."""
    arn = f"arn:aws:glue:{r.region}:{r.account_id}:{resource}"
    tags: dict[str, str] = r.client("glue").get_tags(ResourceArn=arn)["Tags"]
    return tags


def create_database(c: Creating, props: dict[str, Any]) -> Created:
    c.client("glue").create_database(
        CatalogId=props["CatalogId"], DatabaseInput=props["DatabaseInput"]
    )
    return Created(props["DatabaseInput"]["Name"])


def read_database(r: Reading) -> dict[str, Any]:
    database = r.client("glue").get_database(Name=r.physical_id)["Database"]
    return {"CatalogId": database["CatalogId"], "DatabaseInput": database}


def create_connection(c: Creating, props: dict[str, Any]) -> Created:
    connection = {"ConnectionProperties": {}, **props["ConnectionInput"]}
    c.client("glue").create_connection(CatalogId=props["CatalogId"], ConnectionInput=connection)
    return Created(props["ConnectionInput"]["Name"])


def read_connection(r: Reading) -> dict[str, Any]:
    connection = r.client("glue").get_connection(Name=r.physical_id)["Connection"]
    return {"CatalogId": r.properties["CatalogId"], "ConnectionInput": connection}


def create_security_configuration(c: Creating, props: dict[str, Any]) -> Created:
    c.client("glue").create_security_configuration(
        Name=props["Name"],
        EncryptionConfiguration=ENCRYPTION.to_api(props["EncryptionConfiguration"]),
    )
    return Created(props["Name"])


def read_security_configuration(r: Reading) -> dict[str, Any]:
    configuration = r.client("glue").get_security_configuration(Name=r.physical_id)[
        "SecurityConfiguration"
    ]
    return {
        "Name": configuration["Name"],
        "EncryptionConfiguration": ENCRYPTION.from_api(configuration["EncryptionConfiguration"]),
    }


def create_job(c: Creating, props: dict[str, Any]) -> Created:
    c.client("glue").create_job(
        Name=props["Name"], Tags=props.get("Tags", {}), **subset(props, *JOB_FIELDS)
    )
    return Created(props["Name"])


def delete_job(c: Creating, physical_id: str, props: dict[str, Any]) -> None:
    c.client("glue").delete_job(JobName=physical_id)


def read_job(r: Reading) -> dict[str, Any]:
    job = r.client("glue").get_job(JobName=r.physical_id)["Job"]
    observed = subset(job, *JOB_FIELDS, "Name")
    observed["Tags"] = _tags(r, f"job/{r.physical_id}")
    return observed


def create_crawler(c: Creating, props: dict[str, Any]) -> Created:
    c.client("glue").create_crawler(
        Name=props["Name"], Tags=props.get("Tags", {}), **subset(props, *CRAWLER_FIELDS)
    )
    return Created(props["Name"])


def read_crawler(r: Reading) -> dict[str, Any]:
    crawler = r.client("glue").get_crawler(Name=r.physical_id)["Crawler"]
    observed = subset(crawler, "Name", *CRAWLER_FIELDS)
    observed["Tags"] = _tags(r, f"crawler/{r.physical_id}")
    return observed


def create_workflow(c: Creating, props: dict[str, Any]) -> Created:
    c.client("glue").create_workflow(
        Name=props["Name"], Tags=props.get("Tags", {}), **subset(props, *WORKFLOW_FIELDS)
    )
    return Created(props["Name"])


def read_workflow(r: Reading) -> dict[str, Any]:
    workflow = r.client("glue").get_workflow(Name=r.physical_id)["Workflow"]
    observed = subset(workflow, "Name", *WORKFLOW_FIELDS)
    observed["Tags"] = _tags(r, f"workflow/{r.physical_id}")
    return observed


def create_trigger(c: Creating, props: dict[str, Any]) -> Created:
    trigger = subset(props, *TRIGGER_FIELDS, "StartOnCreation")
    if "Predicate" in props:
        # Glue's default for a predicate that does not say how to combine its conditions.
        trigger["Predicate"] = {"Logical": "AND", **props["Predicate"]}
    c.client("glue").create_trigger(Name=props["Name"], **trigger)
    return Created(props["Name"])


def read_trigger(r: Reading) -> dict[str, Any]:
    trigger = r.client("glue").get_trigger(Name=r.physical_id)["Trigger"]
    observed = subset(trigger, "Name", *TRIGGER_FIELDS, "Predicate")
    # A trigger made with StartOnCreation leaves the CREATED state at once.
    observed["StartOnCreation"] = trigger["State"] in ("ACTIVATED", "ACTIVATING")
    return observed


RESOURCE_TYPES = (
    ResourceType("AWS::Glue::Database", read_database, create_database, NO_MODEL),
    ResourceType(
        "AWS::Glue::Connection",
        read_connection,
        create_connection,
        NO_MODEL,
        unreadable={
            "ConnectionInput.ConnectionType": "moto's GetConnection does not return the type",
        },
    ),
    ResourceType(
        "AWS::Glue::SecurityConfiguration",
        read_security_configuration,
        create_security_configuration,
        NO_MODEL,
    ),
    ResourceType("AWS::Glue::Job", read_job, create_job, NO_MODEL, delete=delete_job),
    ResourceType("AWS::Glue::Crawler", read_crawler, create_crawler, NO_MODEL),
    ResourceType("AWS::Glue::Workflow", read_workflow, create_workflow, NO_MODEL),
    ResourceType("AWS::Glue::Trigger", read_trigger, create_trigger, NO_MODEL),
)
