"""The accounts every test record starts with: two officers, a reviewer, and enterprise accounts
for the bundled examples' credit codes. Tests name them; the record refuses anyone else."""

from engine.records import accounts

OFFICERS = {"wang": "王芳", "li": "李强", "chen": "陈静", "t": "测试员"}
REVIEWERS = {"zhao": "赵敏"}
ENTERPRISES = {
    "qinghe": "91140100MA0L3K2P5R",  # the worked example's enterprise (Taiyuan)
}


def seed(store) -> None:
    for name, shown in OFFICERS.items():
        accounts.add_account(store, name, "officer", "os:test", display_name=shown)
    for name, shown in REVIEWERS.items():
        accounts.add_account(store, name, "reviewer", "os:test", display_name=shown)
    for name, code in ENTERPRISES.items():
        accounts.add_account(store, name, "enterprise", "os:test", credit_code=code)


def seed_url(url: str) -> str:
    from engine.records.store import open_store

    store = open_store(url)
    try:
        seed(store)
    finally:
        store.dispose()
    return url


def decided_steps(db: str, *files) -> list[list]:
    """CLI arguments that take ``files`` through the whole path on the record ``db`` (seeded
    first): submitted by an officer, proposed by another, confirmed by a reviewer."""
    seed_url(db)
    return [
        ["submit", "--db", db, "--by", "li", *files],
        ["decide", "--db", db, "--all-pending", "--officer", "wang"],
        ["confirm", "--db", db, "--all-proposed", "--by", "zhao"],
    ]


def decide_and_confirm(store, app_id: str, book, officer: str = "wang", reviewer: str = "zhao", **kw):
    """Propose and confirm one application through the library; the confirmed decision."""
    from engine.records import service

    service.decide(store, app_id, book, officer, **kw)
    return service.confirm(store, app_id, book, reviewer)
