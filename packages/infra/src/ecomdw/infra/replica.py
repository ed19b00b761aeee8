"""What lives in the backup region: the raw bucket's replica and the backup copy vault.

Deployed to `Settings.backup_region` before the primary stacks, which reach it by name (the
replica key by its alias): exports do not cross regions.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template
from troposphere.backup import BackupVault
from troposphere.kms import Alias, Key
from troposphere.s3 import BucketPolicy

from ecomdw.infra.context import RETAIN, StackContext, account_administers_key, policy, skip_checkov
from ecomdw.infra.storage import aging_rules, secure_bucket, tls_only_statements

CONCERN = "replica"


def copy_vault_name(context: StackContext) -> str:
    return context.name("backup-copies")


def build(context: StackContext) -> Template:
    template = context.new_template(
        f"raw bucket replica and backup copy vault in {context.settings.backup_region}"
    )
    key = template.add_resource(
        Key(
            "ReplicaKey",
            Description=f"{context.name('replica')}: encryption key of the backup region",
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=policy(account_administers_key()),
            Tags=context.tags(),
            **RETAIN,
        )
    )
    template.add_resource(
        Alias("ReplicaKeyAlias", AliasName=context.replica_key_alias, TargetKeyId=Ref(key))
    )
    bucket = template.add_resource(
        skip_checkov(
            secure_bucket(
                context,
                "RawReplicaBucket",
                context.replica_bucket,
                kms_key=GetAtt(key, "Arn"),
                lifecycle=aging_rules(context.parameters.raw_expiry_days),
            ),
            (
                "CKV_AWS_18",
                "written only by S3 replication; access to the data is logged at the source",
            ),
        )
    )
    template.add_resource(
        BucketPolicy(
            "RawReplicaBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=policy(*tls_only_statements(context.replica_bucket)),
        )
    )
    vault = template.add_resource(
        BackupVault(
            "BackupCopyVault",
            BackupVaultName=copy_vault_name(context),
            EncryptionKeyArn=GetAtt(key, "Arn"),
            BackupVaultTags=context.tag_map(),
            **RETAIN,
        )
    )
    context.export(template, CONCERN, "RawReplicaBucketName", Ref(bucket), "Raw bucket replica")
    context.export(
        template, CONCERN, "BackupCopyVaultArn", GetAtt(vault, "BackupVaultArn"), "Copy vault"
    )
    return template
