"""The issuing authority as a deployment describes it (发文机关, the form of its document
numbers, its time zone): one strict YAML file, chosen by ``--authority FILE`` or
``$SHUANGTAN_AUTHORITY``, else the bundled example (which says it is one).
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "ENV_VAR",
    "EXAMPLE",
    "Authority",
    "AuthorityFileError",
    "load_authority",
    "resolve_authority",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ENV_VAR": "deployment",
        "EXAMPLE": "deployment",
        "Authority": "deployment",
        "AuthorityFileError": "deployment",
        "load_authority": "deployment",
        "resolve_authority": "deployment",
    },
)
