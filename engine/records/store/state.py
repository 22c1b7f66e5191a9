"""Each application's standing, kept by the database itself: the table ``list`` reads.

An application's status (received, rejected, pending, proposed, decided, corrected) depends on
all its versions, its decisions and their reviews. Worked out at read time for a record of
100,000 applications that is most of a second on SQLite; kept in ``application_state`` (one row
per application, its current version's key) it is an index range. Triggers on ``submission``,
``decision`` and ``review`` recompute the row of each application a write touches, inside the
writer's transaction, whichever code writes (the ORM, a bulk insert, plain SQL): no writer has to
know about it. SQLite's triggers run per row; PostgreSQL's once per statement, over the rows it
wrote (a batch's chunk is one statement, so one refresh). The rules are those of
``engine.records.browse`` (``application``), which reads the rows themselves; tests hold the two
to the same answers.

On PostgreSQL two writers of one application (a new version while its proposal is confirmed)
would each compute from a snapshot without the other's row; each refresh first takes a
transaction lock on the application, so the later one reads what the earlier committed. A
transaction must therefore write its submissions, decisions and reviews before it locks the audit
chain's head (``audit.append`` flushes them first): the other order can deadlock with a writer of
the same application (PostgreSQL then ends one of the two with an error, nothing is lost).

The triggers' names carry ``VERSION``: ``db.upgrade`` (re)installs them and rebuilds the table
when they are missing or of another version, and a read-only command refuses a record without
them. A migration that recreates one of the three tables (SQLite's batch mode does) drops its
triggers; the next ``upgrade`` puts them back and rebuilds.

Triggers on ``application_state`` itself keep ``application_outcome``: a row per application and
outcome, with the status shown (a review's override, else the decision's), indexed for ``list
--outcome``, which would otherwise scan every application's summary (100,000 of them: 0.1 s).

Also here: the compact ``statuses`` summaries a decision and a review keep beside their JSON
(filled by column defaults in models.py), so that listing never decodes a decision document.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

VERSION = 4  # 3: on PostgreSQL, one refresh per statement (its transition tables); 4: application_outcome
_PREFIX = "shuangtan_state_"
TABLE = "application_state"
#: each application's outcomes as rows (its current version's key, outcome, status shown): what
#: ``list --outcome`` selects and counts by an index, kept from ``application_state``'s summaries
OUTCOMES = "application_outcome"
#: one trigger of each installed set is looked for to tell whether the set is there
PROBE = f"shuangtan_state_v{VERSION}_review_ins"
_LOCK_SPACE = 0x5348_5541  # pg_advisory_xact_lock(space, hashtext(app)): one refresher per application

COLUMNS = (
    "submission_id",
    "application_id",
    "status",
    "region_code",
    "received_at",
    "decision_id",
    "proposal_id",
    "statuses",
    "override_statuses",
)

# A review is looked up from its decision, never the other way: each is a scalar subquery on a
# unique index (review.decision_id, review.replaces_id), which no planner turns into a join. As
# joins (version 1), PostgreSQL's plans for a fresh record, made while ``review`` was empty, walked
# every review for each refresh: confirming 2,000 proposals took 9 ms a review and growing.
_ACTION = "(SELECT r.action FROM review r WHERE r.decision_id = d.id)"
_CONFIRMED = f"{_ACTION} = 'confirm'"
_REPLACED = "COALESCE((SELECT x.action FROM review x WHERE x.replaces_id = d.id), '') = 'confirm'"
_IN_FORCE = (
    f"SELECT MAX(d.id) FROM decision d WHERE d.application_id = c.application_id AND {_CONFIRMED} AND NOT {_REPLACED}"
)
_PROPOSAL = f"SELECT MAX(d.id) FROM decision d WHERE d.application_id = c.application_id AND {_ACTION} IS NULL"
_OF_CURRENT = (
    f"SELECT 1 FROM decision d WHERE d.submission_id = c.id AND d.application_id = c.application_id AND {_CONFIRMED}"
)
#: the version an application stands on: its latest not rejected, else its latest
_CURRENT = (
    "c.version = COALESCE("
    "(SELECT MAX(s.version) FROM submission s WHERE s.application_id = c.application_id AND s.valid IS NOT FALSE), "
    "(SELECT MAX(s.version) FROM submission s WHERE s.application_id = c.application_id))"
)
_STATUS = f"""CASE
    WHEN c.valid IS NOT TRUE THEN CASE WHEN c.validated THEN 'rejected' ELSE 'received' END
    WHEN p.id IS NOT NULL THEN 'proposed'
    WHEN EXISTS ({_OF_CURRENT} AND NOT {_REPLACED}) THEN 'decided'
    WHEN EXISTS ({_OF_CURRENT} AND {_REPLACED}) THEN 'corrected'
    ELSE 'pending' END"""


def state_select(where: str) -> str:
    """The state rows of the current submissions ``c`` that ``where`` selects (``_CURRENT`` not included)."""
    return f"""SELECT c.id, c.application_id, {_STATUS}, c.region_code, c.received_at, f.id, p.id,
    CASE WHEN f.id IS NOT NULL THEN f.statuses ELSE p.statuses END,
    CASE WHEN f.id IS NOT NULL THEN fr.statuses END
FROM submission c
LEFT JOIN decision f ON f.id = ({_IN_FORCE})
LEFT JOIN review fr ON fr.decision_id = f.id
LEFT JOIN decision p ON p.id = ({_PROPOSAL})
WHERE {where}"""


_COLS = ", ".join(COLUMNS)
_SET = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "application_id")


def _matcher(value: str, many: bool):
    """``column = value``, or ``column = ANY(value)`` when ``value`` is an array of them."""
    return (lambda c: f"{c} = ANY({value})") if many else (lambda c: f"{c} = {value}")


def _refresh_application(app: str, many: bool = False) -> list[str]:
    """Statements that make the row of application ``app`` (an SQL expression; ``many``: an
    array of them) what the rows say."""
    match = _matcher(app, many)
    current = state_select(f"{match('c.application_id')} AND {_CURRENT}")
    return [
        f"DELETE FROM {TABLE} WHERE {match('application_id')} "
        f"AND NOT EXISTS (SELECT 1 FROM submission x WHERE x.application_id = {TABLE}.application_id)",
        f"INSERT INTO {TABLE} ({_COLS}) {current} ON CONFLICT (application_id) DO UPDATE SET {_SET}",
    ]


def _refresh_unnamed(sub: str, many: bool = False) -> list[str]:
    """The same for a submission with no readable application id (an application of its own)."""
    match = _matcher(sub, many)
    unnamed = state_select(f"{match('c.id')} AND c.application_id IS NULL")
    return [
        f"DELETE FROM {TABLE} WHERE {match('submission_id')} AND application_id IS NULL",
        f"INSERT INTO {TABLE} ({_COLS}) {unnamed}",
    ]


#: every application's state row, worked out from scratch
EVERY_STATE = state_select(f"(c.application_id IS NULL OR {_CURRENT})")
#: emptying both tables: PostgreSQL's TRUNCATE leaves no dead rows for the next count to walk
#: past (a DELETE of 100,000 rows made a plain ``list``'s count 70 ms until autovacuum came)
_EMPTY = {
    "sqlite": [f"DELETE FROM {OUTCOMES}", f"DELETE FROM {TABLE}"],
    "postgresql": [f"TRUNCATE {OUTCOMES}, {TABLE}"],
}
_FILL = f"INSERT INTO {TABLE} ({_COLS}) {EVERY_STATE}"

_DECISION_APP = "(SELECT application_id FROM decision WHERE id = {row}.{key})"
#: table -> row ("NEW"/"OLD") -> (application expressions, unnamed-submission expressions) to refresh
_TOUCHES = {
    "submission": lambda row: ([f"{row}.application_id"], [f"{row}.id"]),
    "decision": lambda row: ([f"{row}.application_id"], []),
    # a review changes its decision's application and, confirming a correction, the corrected one's
    "review": lambda row: (
        [_DECISION_APP.format(row=row, key="decision_id"), _DECISION_APP.format(row=row, key="replaces_id")],
        [],
    ),
}
_EVENTS = {"ins": ("INSERT", ("NEW",)), "upd": ("UPDATE", ("OLD", "NEW")), "del": ("DELETE", ("OLD",))}
#: PostgreSQL, per statement: table -> transition table -> (application ids, unnamed submission ids) it touches
_SET_TOUCHES = {
    "submission": lambda t: (f"SELECT application_id FROM {t}", f"SELECT id FROM {t} WHERE application_id IS NULL"),
    "decision": lambda t: (f"SELECT application_id FROM {t}", None),
    "review": lambda t: (
        f"SELECT d.application_id FROM decision d JOIN {t} r ON d.id = r.decision_id OR d.id = r.replaces_id",
        None,
    ),
}
_TRANSITION = {"OLD": "shuangtan_old", "NEW": "shuangtan_new"}
_TABLES = (*_TOUCHES, TABLE)  # every table a trigger of the set is on


def _trigger_names() -> list[str]:
    return [f"shuangtan_state_v{VERSION}_{table}_{event}" for table in _TABLES for event in _EVENTS]


# --- application_outcome, kept from application_state's rows ------------------------------
# The status shown for an outcome is the review's override where there is one, else the
# decision's (browse.py's rule): the two summaries merged, the override's keys winning.
_SHOWN = {
    "sqlite": "json_each(json_patch(COALESCE({r}.statuses, '{{}}'), COALESCE({r}.override_statuses, '{{}}')))",
    "postgresql": "jsonb_each_text(COALESCE({r}.statuses, '{{}}')::jsonb || COALESCE({r}.override_statuses, '{{}}')::jsonb)",
}
_SUMMARY_COLUMNS = ("submission_id", "statuses", "override_statuses")  # what the rows are kept from
_SUMMARY = ", ".join(_SUMMARY_COLUMNS)


def _outcome_rows(dialect: str, rows: str, r: str) -> str:
    """INSERT of the outcome rows of the state rows ``r`` of ``rows`` (a FROM item)."""
    return (
        f"INSERT INTO {OUTCOMES} (submission_id, outcome, status) SELECT {r}.submission_id, e.key, e.value "
        f"FROM {rows}, {_SHOWN[dialect].format(r=r)} e "
        f"WHERE {r}.statuses IS NOT NULL OR {r}.override_statuses IS NOT NULL"
    )


def _sqlite_outcomes() -> list[str]:
    forget = f"DELETE FROM {OUTCOMES} WHERE submission_id = OLD.submission_id"
    learn = _outcome_rows("sqlite", "(SELECT 1)", "NEW")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SUMMARY_COLUMNS)
    name = f"shuangtan_state_v{VERSION}_{TABLE}"
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {TABLE} FOR EACH ROW BEGIN {learn}; END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {TABLE} FOR EACH ROW WHEN {changed} BEGIN {forget}; {learn}; END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {TABLE} FOR EACH ROW BEGIN {forget}; END",
    ]


def _pg_outcomes() -> list[str]:
    """Per statement: the rows whose summary or version changed are forgotten, then learnt anew
    (an upsert of 200 applications whose statuses stayed as they were writes nothing here).

    The forgetting runs by EXECUTE, planned each time: PL/pgSQL keeps a statement's first plan,
    and one made while the table was empty walks every row of it for each row forgotten (deciding
    2,000 applications took 2.1 s in this trigger, growing with the table)."""
    old, new = _TRANSITION["OLD"], _TRANSITION["NEW"]

    def forget(rows: str) -> str:
        return f"EXECUTE $sql$DELETE FROM {OUTCOMES} WHERE submission_id IN (SELECT submission_id FROM {rows})$sql$"

    bodies = {
        "ins": [_outcome_rows("postgresql", f"{new} n", "n")],
        "upd": [
            forget(f"(SELECT {_SUMMARY} FROM {old} EXCEPT SELECT {_SUMMARY} FROM {new}) x"),
            _outcome_rows("postgresql", f"(SELECT {_SUMMARY} FROM {new} EXCEPT SELECT {_SUMMARY} FROM {old}) n", "n"),
        ],
        "del": [forget(old)],
    }
    return [s for event, body in bodies.items() for s in _pg_trigger(TABLE, event, body)]


def _pg_trigger(table: str, event: str, body: list[str], declare: str = "") -> list[str]:
    """The function and the statement trigger that runs ``body`` after ``event`` on ``table``."""
    verb, rows = _EVENTS[event]
    name = f"shuangtan_state_v{VERSION}_{table}_{event}"
    referencing = " ".join(f"{r} TABLE AS {_TRANSITION[r]}" for r in rows)
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
{declare}BEGIN
    {"; ".join(body)};
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"CREATE TRIGGER {name} AFTER {verb} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _sqlite_install() -> list[str]:
    out = []
    for table, touches in _TOUCHES.items():
        for event, (verb, rows) in _EVENTS.items():
            body = []
            for row in rows:
                apps, subs = touches(row)
                for sub in subs:
                    body += _refresh_unnamed(sub)
                for app in apps:
                    body += _refresh_application(app)
            name = f"shuangtan_state_v{VERSION}_{table}_{event}"
            out.append(f"CREATE TRIGGER {name} AFTER {verb} ON {table} FOR EACH ROW BEGIN {'; '.join(body)}; END")
    return out + _sqlite_outcomes()


def _pg_install() -> list[str]:
    """One refresh per statement, over the rows it wrote (its transition tables): a batch's
    multi-row insert refreshes its applications in one pass, not one pass per row (confirming
    2,000 proposals: 0.25 s in the triggers, against 1.7 s a row at a time). The applications
    are locked in one order, so two refreshers of overlapping sets queue, never deadlock."""
    out = []
    for table, touches in _SET_TOUCHES.items():
        for event, (_verb, rows) in _EVENTS.items():
            apps = " UNION ".join(touches(_TRANSITION[r])[0] for r in rows)
            subs = [q for q in (touches(_TRANSITION[r])[1] for r in rows) if q is not None]
            body = [
                f"SELECT array_agg(DISTINCT a ORDER BY a) INTO v_apps FROM ({apps}) x(a) WHERE a IS NOT NULL",
                "IF v_apps IS NOT NULL THEN "
                f"PERFORM pg_advisory_xact_lock({_LOCK_SPACE}, hashtext(a)) FROM unnest(v_apps) a; "
                + "; ".join(_refresh_application("v_apps", many=True))
                + "; END IF",
            ]
            if subs:
                body = [
                    f"SELECT array_agg(i) INTO v_subs FROM ({' UNION '.join(subs)}) y(i)",
                    "IF v_subs IS NOT NULL THEN " + "; ".join(_refresh_unnamed("v_subs", many=True)) + "; END IF",
                    *body,
                ]
            out += _pg_trigger(table, event, body, declare="DECLARE\n    v_apps text[];\n    v_subs integer[];\n")
    return out + _pg_outcomes()


def _installed(conn, dialect: str) -> set[str]:
    if dialect == "sqlite":
        sql = f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, 16) = '{_PREFIX}'"
    else:  # (no LIKE: a percent sign would be the driver's parameter marker)
        sql = f"SELECT tgname FROM pg_trigger WHERE left(tgname, 16) = '{_PREFIX}'"
    return {name for (name,) in conn.exec_driver_sql(sql).all()}


def uninstall(conn) -> None:
    """Drop every version's triggers (and functions, on PostgreSQL), on a SQLAlchemy connection."""
    dialect = conn.dialect.name
    for name in sorted(_installed(conn, dialect)):
        table = next(t for t in _TABLES if name.endswith(tuple(f"_{t}_{e}" for e in _EVENTS)))
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}" + ("" if dialect == "sqlite" else f" ON {table}"))
    if dialect != "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            f"WHERE left(p.proname, 16) = '{_PREFIX}' AND n.nspname = current_schema()"
        ).all()
        for (signature,) in rows:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature}")


def install(conn, rebuild: bool = True) -> None:
    """This version's triggers in place of whatever set is there, then every row recomputed."""
    uninstall(conn)
    for statement in _sqlite_install() if conn.dialect.name == "sqlite" else _pg_install():
        conn.exec_driver_sql(statement)
    if rebuild:
        if conn.dialect.name == "postgresql":  # a freshly loaded table has no statistics: the rebuild's
            for table in _TOUCHES:  # per-row subqueries would scan where an index answers
                conn.exec_driver_sql(f"ANALYZE {table}")
        for statement in [*_EMPTY[conn.dialect.name], _FILL]:
            conn.exec_driver_sql(statement)
        if conn.dialect.name == "postgresql":  # the list's plans want the new rows' statistics
            conn.exec_driver_sql(f"ANALYZE {TABLE}, {OUTCOMES}")


def current(conn) -> bool:
    """Whether exactly this version's triggers are installed (a SQLAlchemy connection)."""
    return _installed(conn, conn.dialect.name) == set(_trigger_names())


# --- the compact summaries ---------------------------------------------------------------
def brief(statuses: dict[str, str]) -> str:
    """``{"outcome":"status",...}`` in the document's order, compact: what ``application_outcome``
    is kept from (orjson writes it as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` does)."""
    return orjson.dumps(statuses).decode()


def loads_document(text: str) -> Any:
    """A stored document (JSON text) as data: by orjson, a few times faster than ``json`` on a
    decision's 10 kB (confirming reads each back), and by ``json`` what orjson refuses (an
    integer beyond 64 bits, a lone surrogate), so that nothing readable becomes unreadable."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


#: document text -> its statuses, for the documents this process has just written: the audit
#: link made in the same transaction derives them again (audit.py), and need not parse 10 kB
#: anew. Taken out when read, so a long-running process (the service) keeps no documents here.
_WRITTEN: dict[str, str] = {}
_WRITTEN_MAX = 512  # two chunks of a batch (deciding.CHUNK): beyond that, start afresh


def document_statuses(doc: dict, text: str) -> str:
    """``decision_statuses(text)`` of a document at hand as data (``text`` is its JSON)."""
    statuses = brief({k: v["status"] for k, v in doc["outcomes"].items()})
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.clear()
    _WRITTEN[text] = statuses
    return statuses


def decision_statuses(document: str | None) -> str | None:
    """Each outcome's status of a decision document (JSON text), as the engine decided it."""
    if document is None:
        return None
    known = _WRITTEN.pop(document, None)  # equal text, equal statuses: a cache of a function of the text
    if known is not None:
        return known
    outcomes = loads_document(document).get("outcomes")
    return brief({k: v["status"] for k, v in outcomes.items()}) if isinstance(outcomes, dict) else None


def override_statuses(overrides: str | None) -> str | None:
    """The status a review set for each outcome it overrode (the last override of one wins)."""
    decided = {o["outcome"]: o["decided"]["status"] for o in json.loads(overrides)} if overrides else {}
    return brief(decided) if decided else None
