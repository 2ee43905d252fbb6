"""Widgets: what a tool shows the person, as data (pydantic models) that can be logged, exported and re-shown.

The chat page holds one renderer per built-in widget kind. A custom widget subclasses `CustomWidget` and
builds its own NiceGUI elements in `render()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class Widget(BaseModel):
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    kind: str


class Markdown(Widget):
    kind: Literal["markdown"] = "markdown"
    text: str


class Table(Widget):
    kind: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[Any]]
    total_rows: int = Field(description="Rows in the full result; more than len(rows) when capped.")

    @classmethod
    def capped(cls, columns: list[str], rows: list[list[Any]], limit: int = 200, total: int | None = None) -> Table:
        return cls(columns=columns, rows=[list(row) for row in rows[:limit]], total_rows=total or len(rows))

    @property
    def note(self) -> str:
        """"showing N of M" when the table was capped, else empty."""
        shown = len(self.rows)
        return f"showing {shown} of {self.total_rows} rows" if shown < self.total_rows else ""


class Plot(Widget):
    kind: Literal["plot"] = "plot"
    figure: dict[str, Any] = Field(description="A plotly figure as a dict (data + layout).")

    @classmethod
    def from_figure(cls, figure: Any) -> Plot:
        """From a plotly `Figure` (or anything with `to_plotly_json`), made JSON-safe."""
        import json

        import plotly.io

        return cls(figure=json.loads(plotly.io.to_json(figure, validate=False)))


IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}  # and WebP: RIFF....WEBP


def image_type(data: bytes) -> str | None:
    """The image format the bytes are (PNG, JPEG, GIF or WebP), by their magic number; None for anything else
    (SVG is never shown as an image: it is a document that can carry script)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in IMAGE_MAGIC.items() if data.startswith(magic)), None)


class Image(Widget):
    kind: Literal["image"] = "image"
    data: bytes = Field(validation_alias=AliasChoices("data", "png"))  # "png": what exports of old called it
    alt: str = ""

    @field_validator("data")
    @classmethod
    def _known_format(cls, data: bytes) -> bytes:
        if image_type(data) is None:
            raise ValueError("an image must be PNG, JPEG, GIF or WebP")
        return data

    @property
    def mime(self) -> str:
        return image_type(self.data) or "application/octet-stream"


class SendPrompt(BaseModel):
    type: Literal["prompt"] = "prompt"
    prompt: str


class CallTool(BaseModel):
    type: Literal["tool"] = "tool"
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Button(BaseModel):
    label: str
    action: SendPrompt | CallTool = Field(discriminator="type")


class Buttons(Widget):
    kind: Literal["buttons"] = "buttons"
    buttons: list[Button]


class File(Widget):
    kind: Literal["file"] = "file"
    name: str
    data: bytes
    mime: str = "application/octet-stream"


class CustomWidget(Widget, ABC):
    """Subclass to show something the built-in kinds cannot; `render()` runs inside the reply's container."""

    kind: str = "custom"

    @abstractmethod
    def render(self) -> None:
        """Build NiceGUI elements (e.g. `ui.label(...)`) for this widget."""


BUILTIN_WIDGETS = (Markdown, Table, Plot, Image, Buttons, File)
