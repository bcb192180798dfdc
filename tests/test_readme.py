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
