"""A passage retrieved from a data source and given to the model with a question (shown as a citation)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Passage(BaseModel):
    """One retrieved passage; `model_dump()` is plain JSON for logs and the UI's citations."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    source_name: str
    kind: Literal["documents", "table"]
    title: str  # heading path ("Laptops > Nova 15 Pro") or the row's key ("monthly_sales: 2024-11 · EMEA · Laptops")
    location: str  # file within the collection ("laptops.md") or "monthly_sales row 131"
    text: str
    score: float  # 0..1, comparable across sources (see the module docstring)
