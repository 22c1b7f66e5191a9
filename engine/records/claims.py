"""What the record refuses in a valid document: a claim on another enterprise's application, an
enterprise account submitting for another enterprise, a correction of nothing.

Checked for a chunk of submissions at once: what the record already holds is read in three
queries, then each submission is judged in order against it and against the chunk's earlier
ones (version 2 of an application belongs to whoever version 1 of the same chunk named).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import col

from engine.contract.application import Application
from engine.records.store.models import AccountRow, SubmissionRow


class Claims:
    """The owners, accounts and correction targets a chunk's submissions are judged against."""

    def __init__(self, s, rows: Sequence[SubmissionRow]):
        ids = {r.application_id for r in rows if r.application_id is not None}
        targets = {r.corrects for r in rows if r.corrects is not None}
        #: application id -> (credit code, version) of its first valid version
        self.owners: dict[str, tuple[str, int]] = {}
        #: application id -> the credit code of a valid version (a correction's target)
        self.codes: dict[str, str] = {}
        for app_id, version, code in s.execute(
            select(col(SubmissionRow.application_id), col(SubmissionRow.version), col(SubmissionRow.credit_code))
            .where(col(SubmissionRow.application_id).in_(ids | targets), col(SubmissionRow.valid).is_(True))
            .order_by(col(SubmissionRow.version))
        ):
            self.owners.setdefault(app_id, (code, version))
            self.codes.setdefault(app_id, code)
        names = {r.submitted_by for r in rows}
        self.accounts = {
            a.name: a
            for a in s.execute(select(AccountRow).where(col(AccountRow.name).in_(names))).scalars()
            if a.role == "enterprise"
        }

    def accept(self, row: SubmissionRow, app: Application) -> None:
        """``row`` is now valid: later submissions of the chunk are judged against it too."""
        code = app.enterprise.credit_code
        assert row.application_id is not None and row.version is not None, "a valid document has an application id"
        owner = self.owners.get(row.application_id)
        if owner is None or row.version < owner[1]:
            self.owners[row.application_id] = (code, row.version)
        self.codes.setdefault(row.application_id, code)

    def problems(self, row: SubmissionRow, app: Application) -> list[dict]:
        problems = []
        code = app.enterprise.credit_code
        owner = self.owners.get(row.application_id) if row.application_id is not None else None
        if owner is not None and owner[0] != code:
            problems.append(
                {
                    "path": "enterprise.credit_code",
                    "message": f"application {row.application_id} belongs to enterprise {owner[0]} "
                    f"(version {owner[1]}); a new version must carry the same credit code",
                }
            )
        account = self.accounts.get(row.submitted_by)
        if account is not None and account.credit_code != code:
            problems.append(
                {
                    "path": "enterprise.credit_code",
                    "message": f"account {account.name} submits for enterprise {account.credit_code} only",
                }
            )
        if row.corrects is not None:
            target = self.codes.get(row.corrects)
            if row.corrects == row.application_id:
                problems.append(
                    {"path": "(corrects)", "message": "an application cannot correct itself; submit a new version"}
                )
            elif target is None:
                problems.append(
                    {"path": "(corrects)", "message": f"no valid application {row.corrects} on record to correct"}
                )
            elif target != code:
                problems.append(
                    {"path": "(corrects)", "message": f"application {row.corrects} belongs to another enterprise"}
                )
        return problems
