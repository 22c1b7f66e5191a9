"""rules reforms lists the bundled reforms; --reform takes a file or a bundled reform's name."""

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.resources import bundled, bundled_reforms
from engine.rulebook.reforms import load_reform

EXAMPLE = "examples/applications/taiyuan-pv-storage-warehouse.json"


def test_bundled_reforms_are_the_rulebooks_reforms_folder():
    reforms = bundled_reforms()
    assert "remote-region-tilt" in reforms
    assert set(reforms.values()) == set((bundled("rules") / "reforms").glob("*.yaml"))


def test_rules_reforms_lists_each_with_its_description():
    r = CliRunner().invoke(main, ["rules", "reforms"])
    assert r.exit_code == 0, r.output
    for name in bundled_reforms():
        assert f"{name}\n" in r.output
    assert "Lüliang" in r.output  # remote-region-tilt's description


@pytest.mark.zh
def test_rules_reforms_speaks_chinese_from_each_reform_file():
    r = CliRunner().invoke(main, ["rules", "reforms"])
    assert r.exit_code == 0, r.output
    assert "吕梁市（141100）和忻州市（140900）" in r.output and "依据：S §4.3：向偏远地区政策倾斜" in r.output
    assert "Lüliang" not in r.output and "reference:" not in r.output
    for name, path in bundled_reforms().items():
        assert load_reform(path).description_zh, f"{name} has no description_zh"


def test_a_reform_by_name_decides_as_the_same_reform_by_file():
    by_file = CliRunner().invoke(
        main, ["check", EXAMPLE, "--format", "json", "--reform", str(bundled_reforms()["remote-region-tilt"])]
    )
    by_name = CliRunner().invoke(main, ["check", EXAMPLE, "--format", "json", "--reform", "remote-region-tilt"])
    plain = CliRunner().invoke(main, ["check", EXAMPLE, "--format", "json"])
    assert by_file.exit_code == by_name.exit_code == 0, by_name.output
    assert by_name.output == by_file.output
    assert by_name.output != plain.output


def test_an_unknown_reform_name_lists_the_bundled_ones():
    r = CliRunner().invoke(main, ["check", EXAMPLE, "--reform", "no-such-reform"])
    assert r.exit_code == 2
    assert "no-such-reform" in r.output and "remote-region-tilt" in r.output
