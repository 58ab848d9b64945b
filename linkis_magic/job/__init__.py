"""Jobs: submit, follow, stop and read one Linkis job.

``_submit`` builds the submit/execute bodies and starts or re-attaches jobs; ``_job`` is the
:class:`Job` (waiting, the one owner of stopping a job, results); ``_schedule`` says when to
poll; ``_route`` is the one entrance -> jobhistory switch; ``_log`` reads the log once;
``_clock`` makes time injectable; ``_gateway`` names the calls a job needs. None of it imports
the client, IPython or pandas (results load pandas when they are read).
"""

from linkis_magic.job._clock import SYSTEM_CLOCK, Clock, SystemClock
from linkis_magic.job._gateway import JobGateway
from linkis_magic.job._job import GATEWAY_OUTAGE_TIMEOUT, Job
from linkis_magic.job._snapshot import JobSnapshot
from linkis_magic.job._submit import (
    SubmitRequest,
    attach,
    execute,
    execute_body,
    submit,
    submit_body,
)

__all__ = [
    "GATEWAY_OUTAGE_TIMEOUT",
    "SYSTEM_CLOCK",
    "Clock",
    "Job",
    "JobGateway",
    "JobSnapshot",
    "SubmitRequest",
    "SystemClock",
    "attach",
    "execute",
    "execute_body",
    "submit",
    "submit_body",
]
