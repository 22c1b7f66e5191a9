"""The README's examples are real: every file it names exists, every command it shows exists."""

import re

import pytest
from repo import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_has_the_two_commands_and_they_name_real_files():
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(block) == 2
    assert block[0].startswith("./scripts/setup.sh && .venv/bin/shuangtan check ")
    assert block[1] == "./scripts/test.sh"
    assert (ROOT / block[0].split()[-1]).is_file()
    assert (ROOT / ".ci/run").read_text().count("./scripts/test.sh") == 1


@pytest.mark.parametrize(
    "path", sorted(set(re.findall(r"(?:examples|rules|tests|templates|scripts)/[\w./-]+\.\w+", README)))
)
def test_every_file_the_readme_names_exists(path):
    assert (ROOT / path).exists(), path


COMMANDS = sorted(
    set(re.findall(r"(?:^\s+|`)shuangtan ((?:rules |population |telemetry )?[a-z][a-z-]+)", README, re.M))
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_the_readme_shows_exists(command, cli):
    result = cli(*command.split(), "--help")
    assert result.exit_code == 0, result.output


def test_the_quick_start_example_decides_as_the_readme_says(cli):
    result = cli("check", "examples/applications/taiyuan-pv-storage-warehouse.json")
    assert result.exit_code == 0
    for text in ("280,000.00", "640,000.00", "1,500,000.00", "285.150"):
        assert text in result.output


def test_the_telemetry_example_decides_as_the_readme_says(cli):
    result = cli(
        "check",
        "examples/applications/taiyuan-pv-storage-warehouse.json",
        "--telemetry",
        "examples/telemetry/taiyuan-2026.csv",
    )
    assert result.exit_code == 0, result.output
    for text in ("904.96", "24.59%", "175,009.71", "350,019.425", "11.72", "DECLARED_DIFFERS_FROM_METERED"):
        assert text in result.output
    assert "175,009.71" in README and "0.245866" in README
