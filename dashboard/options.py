"""Checks of options users type (CLI flags, library arguments), each failure one line naming the option."""
from __future__ import annotations

from dashboard.errors import GapscopeError


def check_modalities(modalities: list[str], option: str, at_least: int = 1) -> list[str]:
    """The modalities, refused when an entry is empty, one repeats or there are fewer than at_least."""
    empty = [k for k, m in enumerate(modalities) if not str(m).strip()]
    if empty:
        raise GapscopeError(f"{option}: entry {empty[0] + 1} of {','.join(modalities)!r} is empty "
                            "(give modality names separated by commas, e.g. image,text)")
    repeated = next((m for k, m in enumerate(modalities) if m in modalities[:k]), None)
    if repeated is not None:
        raise GapscopeError(f"{option}: modality {repeated!r} is given twice ({','.join(modalities)})")
    if len(modalities) < at_least:
        count = {1: "one", 2: "two", 3: "three"}.get(at_least, str(at_least))
        raise GapscopeError(f"{option}: needs at least {count} modalities, got {len(modalities)} "
                            f"({','.join(modalities) or 'none'})")
    return modalities
