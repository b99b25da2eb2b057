"""A local ledger of submitted export jobs: no lost state makes the tap ask impact.com twice.

The Singer state is the source of truth: it says which days are done and which jobs are in
flight. But a state can be lost — ``meltano config test`` stops a sync at its first record
and saves none, a target can fail before saving it, a run can be killed between
ClickExport's answer and the STATE — and impact.com counts every identical ClickExport
against the day's 10. So every submitted job is also written here, per API host, account,
program, date and filters, and looked up before every ClickExport; a replay that answers
with a new job id replaces the day's entry. It also keeps today's count of charged calls
(``"charged": {"utc_day": …, "count": …}``), so a lost state does not reset the daily quota
either (the larger of its count and the state's is used). The file is small: old entries
(:data:`KEEP_DAYS`) and the oldest beyond :data:`MAX_ENTRIES` are dropped. A file that cannot
be read stops the run with one line naming it (it is never overwritten: it may hold the only
record of a job).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from tap_impact_clicks.impact.paths import is_job_id
from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import SettingError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger("tap-impact-clicks")

#: Entries submitted longer ago than this are dropped (impact.com keeps results ≥ 90 days).
KEEP_DAYS = 90
#: At most this many entries per account (a year of daily exports of a few programs).
MAX_ENTRIES = 2000
OFF = "off"


def default_directory(environ: Mapping[str, str]) -> Path:
    """Where the ledger lives unless the ``job_ledger`` setting says otherwise.

    Args:
        environ: The environment.

    Returns:
        The Meltano project's ``.meltano/run/tap-impact-clicks`` when run by Meltano, else
        ``$XDG_CACHE_HOME/tap-impact-clicks`` (``~/.cache/tap-impact-clicks``).
    """
    project = environ.get("MELTANO_PROJECT_ROOT")
    if project:
        return Path(project) / ".meltano" / "run" / "tap-impact-clicks"
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tap-impact-clicks"


class JobLedger:
    """The submitted jobs of one account at one API host (a JSON file)."""

    def __init__(self, path: Path | None, api_url: str = "", account: str = "") -> None:
        """Open (lazily) the ledger file.

        Args:
            path: The file (None: the ledger is off).
            api_url: The API's base URL (only its host and port are kept).
            account: The Account SID.
        """
        self.path = path
        parts = urlsplit(api_url)
        self._where = {"api": f"{parts.hostname}:{parts.port or ''}", "account": account}
        self._jobs: dict[str, dict[str, str]] | None = None
        self._charged: dict[str, t.Any] = {}

    @classmethod
    def for_account(
        cls, setting: str | None, api_url: str, account: str, environ: Mapping[str, str]
    ) -> JobLedger:
        """The ledger of an account, where the ``job_ledger`` setting says.

        Args:
            setting: The ``job_ledger`` setting (None: the default place; ``off``: none).
            api_url: The API's base URL.
            account: The Account SID.
            environ: The environment.

        Returns:
            The ledger.
        """
        if setting is not None and setting.lower() == OFF:
            return cls(None)
        directory = Path(setting).expanduser() if setting else default_directory(environ)
        parts = urlsplit(api_url)
        name = f"{parts.hostname}:{parts.port or ''}|{account}"
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        return cls(directory / f"jobs-{digest}.json", api_url, account)

    @staticmethod
    def _key(day: dt.date, filters: str, program: str | None) -> str:
        return f"{program or '-'}|{day.isoformat()}|{filters}"

    def _load(self) -> dict[str, dict[str, str]]:
        if self._jobs is None:
            document = {} if self.path is None else self._read(self.path)
            self._jobs = document.get("jobs", {})
            charged = document.get("charged")
            self._charged = charged if isinstance(charged, dict) else {}
        return self._jobs

    @staticmethod
    def _read(path: Path) -> dict[str, t.Any]:
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:
            problem = f"cannot be read ({str(exc)[:80]})"
        else:
            jobs = document.get("jobs") if isinstance(document, dict) else None
            if isinstance(jobs, dict) and all(
                isinstance(v, dict) and isinstance(v.get("job_id"), str) for v in jobs.values()
            ):
                return t.cast("dict[str, t.Any]", document)
            problem = "is not a job ledger (its 'jobs' must be an object of job entries)"
        msg = (
            f"job_ledger: the file {str(path)[:120]} {problem}; move it away (or set "
            "job_ledger: off) and run again"
        )
        raise SettingError(msg)

    def check(self) -> None:
        """Read the file now (a ledger that cannot be read is an error before any request).

        Raises:
            SettingError: It cannot be read.
        """
        self._load()

    def charged_today(self) -> int:
        """Charged calls the ledger counted today (UTC), across every program of the account.

        Returns:
            The count (0 for another day, a count that is not one, or no ledger).
        """
        self._load()
        count = self._charged.get("count")
        if self._charged.get("utc_day") != clock.utcnow().date().isoformat():
            return 0
        return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0

    def record_charged(self, used_today: int) -> None:
        """Write down today's count of charged calls (at once, like a job).

        Args:
            used_today: The account's charged calls today, as the quota counts them.
        """
        if self.path is None:
            return
        jobs = self._load()
        self._charged = {"utc_day": clock.utcnow().date().isoformat(), "count": used_today}
        self._save(jobs)

    def find(self, day: dt.date, filters: str, program: str | None = None) -> str | None:
        """The job submitted for a day with these filters, if the ledger knows one.

        Args:
            day: The click date.
            filters: The filter key (``Settings.filter_key``).
            program: The brand program, if any.

        Returns:
            The job id, or None.
        """
        entry = self._load().get(self._key(day, filters, program))
        job_id = entry.get("job_id") if entry else None
        return job_id if isinstance(job_id, str) and is_job_id(job_id) else None

    def remember(self, day: dt.date, filters: str, program: str | None, job_id: str) -> None:
        """Write down a submitted job (at once, before anything else can go wrong).

        Args:
            day: The click date.
            filters: The filter key.
            program: The brand program, if any.
            job_id: The job impact.com returned.
        """
        if self.path is None:
            return
        jobs = self._load()
        jobs[self._key(day, filters, program)] = {
            "job_id": job_id,
            "submitted_at": clock.utcnow().isoformat(timespec="seconds"),
        }
        self._prune(jobs)
        self._save(jobs)

    @staticmethod
    def _prune(jobs: dict[str, dict[str, str]]) -> None:
        oldest = (clock.utcnow() - dt.timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")
        for key in [k for k, v in jobs.items() if str(v.get("submitted_at", "")) < oldest]:
            del jobs[key]
        for key in sorted(jobs, key=lambda k: str(jobs[k].get("submitted_at", "")))[
            : max(0, len(jobs) - MAX_ENTRIES)
        ]:
            del jobs[key]

    def _save(self, jobs: dict[str, dict[str, str]]) -> None:
        """Replace the file atomically (a reader never sees half of it)."""
        if self.path is None:
            return
        temporary: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            document = json.dumps(
                {**self._where, "jobs": jobs, "charged": self._charged}, indent=0, sort_keys=True
            )
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, prefix=".jobs-", delete=False
            ) as handle:
                temporary = Path(handle.name)
                handle.write(document)
            temporary.replace(self.path)
        except OSError as exc:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            logger.warning(
                "Could not write the job ledger %s (%s): the state alone keeps the job ids.",
                self.path,
                exc,
            )
