"""The README's Python examples run, and print what the README says they print.

Every ```python block of README.md is a doctest; the blocks run in order in one namespace (a
later block may use what an earlier one made), with ``...`` matching any text and runs of
whitespace compared as one.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_every_python_block_is_an_example() -> None:
    blocks = BLOCK.findall(README.read_text())
    assert blocks
    bare = [b.splitlines()[0] for b in blocks if not b.lstrip().startswith(">>>")]
    assert not bare, f"python blocks that are not doctests (start them with >>>): {bare}"


def test_readme_examples_print_what_they_say() -> None:
    text = "\n".join(BLOCK.findall(README.read_text()))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"__name__": "readme"}, "README.md", str(README), 0)
    assert len(test.examples) > 20
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_the_command_line_example_prints_what_the_readme_shows(capsys) -> None:
    from edgeswarm.cli import main

    block = re.search(
        r"^```\n\$ (edgeswarm run [^\n]*)\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL
    )
    assert block is not None, "the README's `$ edgeswarm run ...` example is missing"
    command, shown = block.group(1), [line for line in block.group(2).splitlines() if line != "..."]
    assert main(command.split()[1:]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[: len(shown)] == shown
