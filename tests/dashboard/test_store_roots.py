"""Store roots: every file a store reads must resolve inside the served folders; loops and NUL bytes are one line."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.errors import GapscopeError
from dashboard.synthetic import build_synthetic_store
from dashboard.ui.loaders import STORE_ROOTS, check_allowed


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under a folder (not following links) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> dict[str, Path]:
    """A served root holding one good store and stores whose parts link to a store outside the root."""
    base = tmp_path_factory.mktemp("roots")
    served, outside = base / "served", base / "outside"
    build_synthetic_store(outside / "secret", n=20, dim=8)
    build_synthetic_store(served / "good", n=20, dim=8)
    meta_link = served / "meta-link"
    build_synthetic_store(meta_link, n=20, dim=8)
    (meta_link / "meta.duckdb").unlink()
    (meta_link / "meta.duckdb").symlink_to(outside / "secret" / "meta.duckdb")
    vectors_link = served / "vectors-link"
    build_synthetic_store(vectors_link, n=20, dim=8)
    os.rename(vectors_link / "vectors", base / "moved-vectors")
    (vectors_link / "vectors").symlink_to(base / "moved-vectors")
    deep = served / "deep-link"
    build_synthetic_store(deep, n=20, dim=8)
    table = next(p for p in (deep / "vectors").iterdir() if p.is_dir())
    (table / "stolen").symlink_to(outside / "secret" / "meta.duckdb")
    (served / "loop-a").symlink_to(served / "loop-b")
    (served / "loop-b").symlink_to(served / "loop-a")
    inner_loop = served / "inner-loop"
    build_synthetic_store(inner_loop, n=20, dim=8)
    (inner_loop / "vectors" / "x").symlink_to(inner_loop / "vectors" / "y")
    (inner_loop / "vectors" / "y").symlink_to(inner_loop / "vectors" / "x")
    return {"served": served, "outside": outside, "base": base}


def _refused(path: str) -> str:
    """The one-line message check_allowed raises for a store."""
    with pytest.raises(GapscopeError) as info:
        check_allowed(path)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("name,part", [("meta-link", "meta.duckdb"), ("vectors-link", "vectors"),
                                       ("deep-link", "stolen")])
def test_a_part_linking_outside_the_roots_is_refused(layout, monkeypatch, name, part):
    monkeypatch.setenv(STORE_ROOTS, str(layout["served"]))
    before = _snapshot(layout["base"])
    message = _refused(str(layout["served"] / name))
    assert message.startswith(f"store {layout['served'] / name}: ") and part in message
    assert message.endswith(f"links outside the folders this dashboard serves ({STORE_ROOTS})")
    assert _snapshot(layout["base"]) == before


def test_the_good_store_inside_the_roots_is_served(layout, monkeypatch):
    monkeypatch.setenv(STORE_ROOTS, str(layout["served"]))
    check_allowed(str(layout["served"] / "good"))
    monkeypatch.setenv(STORE_ROOTS, str(layout["base"]))
    check_allowed(str(layout["served"] / "meta-link"))


@pytest.mark.parametrize("roots", [True, False])
@pytest.mark.parametrize("name,expected", [("loop-a", "loop-a cannot be resolved (a symlink loop)"),
                                           ("inner-loop", "cannot be resolved (a symlink loop)")])
def test_symlink_loops_are_one_line_errors(layout, monkeypatch, roots, name, expected):
    if roots:
        monkeypatch.setenv(STORE_ROOTS, str(layout["served"]))
    else:
        monkeypatch.delenv(STORE_ROOTS, raising=False)
    assert expected in _refused(str(layout["served"] / name))


@pytest.mark.parametrize("roots", [True, False])
def test_a_nul_byte_is_a_one_line_error(layout, monkeypatch, roots):
    if roots:
        monkeypatch.setenv(STORE_ROOTS, str(layout["served"]))
    else:
        monkeypatch.delenv(STORE_ROOTS, raising=False)
    path = f"{layout['served']}/good\0/../x"
    assert _refused(path) == f"store {path!r}: the path contains a NUL byte"


@pytest.mark.parametrize("name", ["meta-link", "loop-a", "good\0x"])
def test_the_sidebar_shows_one_line_for_each(app, layout, monkeypatch, name):
    monkeypatch.setenv(STORE_ROOTS, str(layout["served"]))
    before = _snapshot(layout["base"])
    at = app(store=str(layout["served"] / name) if "\0" not in name else f"{layout['served']}/{name}")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert _snapshot(layout["base"]) == before
