"""Printing benchmark figures against their targets."""

from __future__ import annotations

from typing import Any


def row(name: str, value: float, unit: str, target: float, *, higher_is_better: bool = True) -> dict[str, Any]:
    """One benchmark figure with its target; prints it and returns it as a dict."""
    ok = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    print(f"{name}: {value:,.3g} {unit} (target {op} {target:,} {unit}) {'OK' if ok else 'MISS'}", flush=True)
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}
