"""shuangtan rules test: run the rule-test data files and list the branches no case exercises."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.common import rulebook_options, rulebook_problem
from engine.drafting.ruletests import RuleTestFormatError, coverage, discover, load_cases, run_cases
from engine.errors import RulebookError, ShuangtanError
from engine.i18n import t
from engine.resources import bundled

DEFAULT_TESTS = bundled("rule_tests")


@click.command("test")
@click.argument("paths", metavar="[PATH...]", nargs=-1, type=click.Path(exists=True, path_type=Path))
@rulebook_options
def rules_test(paths, book):
    """Run rule tests (files or folders of *.yaml; default: tests/rules/).

    Prints passed/failed per file, each failure with its diff, then the branches of the
    rulebook (exemptions, reasons, tiers, CAPPED, statuses) that no case exercises.
    Exits 1 if any case fails.
    """
    files = discover(paths or [DEFAULT_TESTS])
    if not files:
        raise click.UsageError(t("rules.test.none_found"))
    all_results, failed = [], 0
    for f in files:
        try:
            results = run_cases(book, load_cases(f))
        except RuleTestFormatError as exc:
            raise click.ClickException(exc.said()) from None
        except RulebookError as exc:  # a YAML file that does not parse
            raise click.ClickException(rulebook_problem(exc)) from None
        except ShuangtanError as exc:
            raise click.ClickException(str(exc)) from None
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        all_results += results
        click.echo(t("rules.test.file_counts", file=_shown(f), passed=len(results) - len(bad), failed=len(bad)))
        for r in bad:
            click.echo(t("rules.test.failed_case", name=r.case.name))
            for line in r.diffs:
                click.echo(f"    {line}")
    report = coverage(book, all_results)
    total = sum(len(b) for b in report.branches.values())
    click.echo("\n" + t("rules.test.coverage", covered=total - len(report.uncovered), total=total))
    if report.uncovered:
        click.echo(t("rules.test.uncovered_head"))
        for line in report.lines():
            click.echo(f"  {line}")
    if failed:
        click.echo("\n" + t("rules.test.failed_total" + ("_one" if failed == 1 else ""), n=failed), err=True)
        raise SystemExit(1)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def register(group):
    group.commands["rules"].add_command(rules_test)
