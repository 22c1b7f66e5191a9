"""The drafters' tools: synthetic populations, simulation of a reform against the baseline, why-not
suggestions, and the rule-test runner.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

#: The most applications ``population generate`` builds: the population is held in memory (about
#: 0.7 GB per million), and the command line checks this before anything is imported.
MAX_POPULATION = 10_000_000

__all__ = [
    "MAX_POPULATION",
    "coverage",
    "discover",
    "generate",
    "load_cases",
    "read_population",
    "render",
    "run_cases",
    "why_not",
    "write_outputs",
    "write_population",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "generate": "population",
        "write_population": "population",
        "read_population": "population",
        "MAX_POPULATION": "population",
        "write_outputs": "simulate",
        "why_not": "whynot",
        "render": "whynot",
        "load_cases": "ruletests",
        "discover": "ruletests",
        "run_cases": "ruletests",
        "coverage": "ruletests",
    },
)
