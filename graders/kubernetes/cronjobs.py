"""CronJobs with schedules the controller accepts and time zones that exist."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

from graders.formats import cron
from graders.formats.cron import CronError
from graders.kubernetes.manifests import Manifest
from graders.kubernetes.pods import find, pod_templates
from graders.report import Report, short_repr


def expand_cron(schedule: str) -> tuple[frozenset[int], ...]:
    """The five fields of a cron schedule as sets of values (minute, hour, day of month, month,
    day of week), with the syntax the CronJob controller accepts; :class:`CronError` if invalid."""
    text = cron.MACROS.get(schedule.strip().lower(), schedule.strip())
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        raise CronError("a time zone inside the schedule is not allowed: use spec.timeZone")
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"has {len(parts)} fields; a schedule has 5 (minute hour day month weekday)"
        )
    return cron.expand(parts, cron.KUBERNETES)


def check_cronjobs(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """A valid schedule and time zone, and pods that are allowed to finish."""
    for cronjob in find(manifests, "CronJob"):
        schedule = cronjob.get("spec.schedule")
        try:
            expand_cron(str(schedule) if schedule is not None else "")
        except CronError as exc:
            report.fail(
                cronjob.where("spec.schedule"),
                f"is not a valid schedule: {exc}",
                expected="five fields: minute hour day-of-month month day-of-week, "
                "e.g. '30 2 * * *' for 02:30 every day",
                found=short_repr(schedule),
                hint="Quote the schedule: a leading '*' means something else to YAML.",
            )
        zone = cronjob.get("spec.timeZone")
        if zone is not None and not _valid_zone(zone):
            report.fail(
                cronjob.where("spec.timeZone"),
                "is not a time zone name from the IANA database",
                expected="e.g. Etc/UTC or Europe/Berlin",
                found=short_repr(zone),
            )
    for template in pod_templates(manifests):
        if template.manifest.kind not in ("Job", "CronJob"):
            continue
        policy = template.spec.get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            report.fail(
                template.manifest.where((*template.path, "restartPolicy")),
                "a Job's pods must be allowed to finish: restartPolicy must be Never or "
                "OnFailure (the API server rejects Always, which is also the default)",
                expected="Never or OnFailure",
                found=short_repr(policy) if policy is not None else "(not set)",
            )


def _valid_zone(zone: Any) -> bool:
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
