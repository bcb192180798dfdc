"""The committed _core.pyi must match what the built module exposes."""

from __future__ import annotations

from edgeswarm import _stubs


def test_committed_stub_matches_the_module() -> None:
    generated = _stubs.generate()
    committed = _stubs.STUB_PATH.read_text(encoding="utf-8")
    assert committed == generated, "python/edgeswarm/_core.pyi drifted from the module: run `make stubs`"
