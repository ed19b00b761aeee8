"""What the emulation knows of one CloudFormation resource type, declared by its service.

A type moto's CloudFormation creates as declared is read back only. A type it skips (it has
no model, and reports the resource complete having created nothing) or creates wrongly is
created here instead, from the template's own properties, through the emulated service's API.
A type neither can create is named, with the reason, so the verification reports it. Each
service's module lists its types (`RESOURCE_TYPES`); `registry` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecomdw.emulation.clients import cached_client

BY_EMULATOR = "created by emulator"
BY_ECOMDW = "created by ecomdw emulation"
NOT_EMULATED_ORIGIN = "not emulated"

NO_MODEL = "moto's CloudFormation has no model: reported complete, nothing created"


@dataclass(frozen=True)
class Created:
    """What CloudFormation knows of a created resource: `Ref` and `Fn::GetAtt` answers."""

    physical_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


class Creating:
    """A resource being created or deleted: its stack's region and account in the emulator."""

    def __init__(self, endpoint: str, region: str, account_id: str, generated_name: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.account_id = account_id
        self.generated_name = generated_name
        """The name CloudFormation gives a resource whose template names none."""

    def client(self, service: str) -> Any:
        return cached_client(self.endpoint, self.region, service, self.account_id)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


@dataclass(frozen=True)
class Reading:
    """One deployed resource to read back: its physical id and resolved template properties."""

    client: Callable[[str], Any]
    """A client of the resource's region and account, by service."""
    region: str
    account_id: str
    physical_id: str
    properties: Mapping[str, Any]


Create = Callable[[Creating, dict[str, Any]], Created]
Delete = Callable[[Creating, str, dict[str, Any]], None]
Read = Callable[[Reading], dict[str, Any]]
"""Returns the resource as its API shows it, in the template's property shape."""


@dataclass(frozen=True)
class ResourceType:
    """One CloudFormation type: read back (`read`), created here too (`create`), or neither
    (not emulated: `why` says why)."""

    name: str
    read: Read | None = None
    create: Create | None = None
    why: str = ""
    """Created here: what moto's own CloudFormation does with the type. Not emulated: why
    neither moto nor ecomdw creates it."""
    delete: Delete | None = None
    """Created here and replaced on update: how a resource of it is deleted."""
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Properties (dotted paths into a property) the emulator cannot hold or return, each with
    the reason: the verification leaves them out of the comparison and names them."""

    def __post_init__(self) -> None:
        if self.create is not None and (self.read is None or not self.why):
            raise ValueError(f"{self.name}: created here, it is read back and says why")
        if self.read is None and not self.why:
            raise ValueError(f"{self.name}: not emulated, it says why")

    @property
    def origin(self) -> str:
        if self.create is not None:
            return BY_ECOMDW
        return BY_EMULATOR if self.read is not None else NOT_EMULATED_ORIGIN
