"""AWS Backup: daily recovery points of the tagged buckets and warehouse, copied to the backup
region's vault. (The raw bucket is also replicated object by object, see `storage`.)

Backups run after the nightly pipeline, on the days it runs, so a paused dev or staging
warehouse is never asked for a snapshot.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.backup import (
    BackupPlan,
    BackupPlanResourceType,
    BackupRuleResourceType,
    BackupSelection,
    BackupSelectionResourceType,
    BackupVault,
    ConditionResourceType,
    CopyActionResourceType,
    LifecycleResourceType,
)
from troposphere.iam import Role

from ecomdw.infra.context import (
    BACKUP_TAG_KEY,
    BACKUP_TAG_VALUE,
    RETAIN,
    StackContext,
    assume_role_policy,
)
from ecomdw.infra.orchestration import daily_cron
from ecomdw.infra.replica import copy_vault_name

CONCERN = "backup"
BACKUP_HOUR_UTC = 6
BACKUP_MANAGED_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


def build(context: StackContext) -> Template:
    template = context.new_template("Backup vault, plan and cross-region copies")
    parameters = context.parameters
    vault = template.add_resource(
        BackupVault(
            "BackupVault",
            BackupVaultName=context.name("backups"),
            EncryptionKeyArn=context.imported("security", "DataKeyArn"),
            BackupVaultTags=context.tag_map(),
            **RETAIN,
        )
    )
    retention = LifecycleResourceType(DeleteAfterDays=parameters.backup_retention_days)
    copy_vault = Sub(
        f"arn:${{AWS::Partition}}:backup:{context.settings.backup_region}:${{AWS::AccountId}}:"
        f"backup-vault:{copy_vault_name(context)}"
    )
    plan = template.add_resource(
        BackupPlan(
            "BackupPlan",
            BackupPlan=BackupPlanResourceType(
                BackupPlanName=context.name("daily"),
                BackupPlanRule=[
                    BackupRuleResourceType(
                        RuleName="daily-after-pipeline",
                        TargetBackupVault=Ref(vault),
                        ScheduleExpression=daily_cron(BACKUP_HOUR_UTC, parameters.schedule_days),
                        StartWindowMinutes=60,
                        CompletionWindowMinutes=360,
                        Lifecycle=retention,
                        CopyActions=[
                            CopyActionResourceType(
                                DestinationBackupVaultArn=copy_vault, Lifecycle=retention
                            )
                        ],
                    )
                ],
            ),
            BackupPlanTags=context.tag_map(),
        )
    )
    role = template.add_resource(
        Role(
            "BackupRole",
            Description="AWS Backup: snapshot and restore the tagged resources",
            AssumeRolePolicyDocument=assume_role_policy("backup"),
            ManagedPolicyArns=[
                Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{managed}")
                for managed in BACKUP_MANAGED_POLICIES
            ],
            Tags=context.tags(),
        )
    )
    template.add_resource(
        BackupSelection(
            "BackupSelection",
            BackupPlanId=Ref(plan),
            BackupSelection=BackupSelectionResourceType(
                SelectionName=context.name("tagged"),
                IamRoleArn=GetAtt(role, "Arn"),
                ListOfTags=[
                    ConditionResourceType(
                        ConditionType="STRINGEQUALS",
                        ConditionKey=BACKUP_TAG_KEY,
                        ConditionValue=BACKUP_TAG_VALUE,
                    )
                ],
            ),
        )
    )
    context.export(
        template, CONCERN, "BackupVaultArn", GetAtt(vault, "BackupVaultArn"), "Backup vault"
    )
    return template
