"""What each running emulator holds beyond moto's backends, and which emulators run here.

moto's backends, and the moto classes the services' installs replace attributes of, are the
process's: every emulator in it serves the same AWS state. What the emulation adds is held
per emulator, in its `EmulatorState`: the Glue job runs and crawls it runs, the Redshift Data
API's sessions and the clusters' endpoints, the templates of the stacks it deploys. A request
that says which emulator it reached (by the port in its `Host`) is served by that one's state;
one that does not (a job run moto's backend starts, a resource CloudFormation creates, a state
machine's task) by the newest running emulator's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ecomdw.core.settings import Settings

if TYPE_CHECKING:
    from ecomdw.emulation.services.glue.crawlers import GlueCrawlerRunner
    from ecomdw.emulation.services.glue.jobs import GlueJobRunner
    from ecomdw.emulation.services.redshift.data_api import RedshiftDataEmulation
    from ecomdw.emulation.services.redshift.endpoint import RedshiftEndpoints


def port_of(endpoint_or_host: str) -> int:
    """The port of `http://host:port` or of a `Host` header's `host:port`."""
    address = endpoint_or_host if "//" in endpoint_or_host else f"//{endpoint_or_host}"
    return urlsplit(address).port or 80


@dataclass(eq=False)
class EmulatorState:
    """One emulator's own: its settings (its endpoint) and what its services run."""

    settings: Settings
    glue_jobs: GlueJobRunner
    glue_crawlers: GlueCrawlerRunner
    redshift_data: RedshiftDataEmulation
    redshift_endpoints: RedshiftEndpoints
    stack_templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Stack id -> the template of a stack being created or updated, as submitted."""

    @property
    def endpoint(self) -> str:
        return str(self.settings.endpoint_url)

    def reset(self) -> None:
        """Forget what the services hold, as moto's reset forgets its backends: the Data API's
        databases and statements, the clusters' endpoints, the stacks' templates. Job runs and
        crawls still going are left to end."""
        self.redshift_endpoints.stop()
        self.redshift_data.reset()
        self.stack_templates.clear()

    def stop(self) -> None:
        """End what runs: crawls first (they write through the emulator), then job runs, the
        clusters' endpoints and the Data API's sessions."""
        self.glue_crawlers.stop()
        self.glue_jobs.stop()
        self.redshift_endpoints.stop()
        self.redshift_data.stop()


class RunningEmulators:
    """The emulators running in this process, oldest first."""

    def __init__(self) -> None:
        self._states: list[EmulatorState] = []
        self._lock = threading.Lock()

    def add(self, state: EmulatorState) -> None:
        with self._lock:
            self._states.append(state)

    def remove(self, state: EmulatorState) -> None:
        """`state` no longer serves; the newest of the others does."""
        with self._lock:
            if state in self._states:
                self._states.remove(state)

    def empty(self) -> bool:
        with self._lock:
            return not self._states

    def serving(self) -> EmulatorState:
        """The newest running emulator: it serves what reaches no emulator by its port."""
        with self._lock:
            if not self._states:
                raise RuntimeError("no emulator of this process is running")
            return self._states[-1]

    def reached_at(self, host: str) -> EmulatorState | None:
        """The emulator listening on the port of a request's `Host`."""
        port = port_of(host)
        with self._lock:
            return next((s for s in self._states if port_of(s.endpoint) == port), None)


RUNNING = RunningEmulators()
"""The one record of the process's emulators (moto's state is the process's too)."""
