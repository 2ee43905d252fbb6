"""A running tool's question (an MCP elicitation) as a form in its tool card: fields from a flat JSON schema
(text, number, integer, boolean, enum), then Accept, Decline or Cancel.

The schema and its texts come from a server, so they are only ever shown as text. Accept checks the required
fields and the types here, then the answer goes back through the session to the waiting call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from galaxy_chat.ui.marks import testid
from galaxy_chat.vocabulary.events import ToolCallAnswer, ToolCallQuestion

AnswerHandler = Callable[[str, str, dict[str, Any] | None], Awaitable[bool] | bool]
MAX_FIELDS = 20
OUTCOMES = {"accept": "Answered", "decline": "Declined", "cancel": "Cancelled"}


def _choices(spec: dict[str, Any]) -> dict[Any, str] | None:
    if isinstance(spec.get("enum"), list):
        names = spec.get("enumNames") if isinstance(spec.get("enumNames"), list) else spec["enum"]
        return {value: str(name) for value, name in zip(spec["enum"], names, strict=False)}
    options = spec.get("oneOf") or spec.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, dict) and "const" in o for o in options):
        return {o["const"]: str(o.get("title", o["const"])) for o in options}
    return None


class QuestionForm:
    def __init__(self, question: ToolCallQuestion, on_answer: AnswerHandler | None) -> None:
        self.question = question
        self.on_answer = on_answer
        self.fields: dict[str, tuple[dict[str, Any], ui.element]] = {}
        properties = question.schema.get("properties") if isinstance(question.schema, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        required = question.schema.get("required", []) if isinstance(question.schema, dict) else []
        self.required = {name for name in required if isinstance(name, str)}
        with testid(ui.column().classes("w-full gap-2 gc-question"), "tool-question") as self.box:
            ui.label(question.message).classes("text-body2 whitespace-pre-wrap break-words")
            for name, spec in list(properties.items())[:MAX_FIELDS]:
                if isinstance(name, str) and isinstance(spec, dict):
                    self.fields[name] = (spec, self._field(name, spec))
            with ui.row().classes("gap-2 items-center") as self.buttons:
                testid(ui.button("Accept", on_click=self.accept).props("dense no-caps color=primary"),
                       "question-accept")
                testid(ui.button("Decline", on_click=lambda: self.send("decline", None)).props("dense flat no-caps"),
                       "question-decline")
                testid(ui.button("Cancel", on_click=lambda: self.send("cancel", None)).props("dense flat no-caps"),
                       "question-cancel")
                ui.label(f"Answer within {question.timeout_s:.0f} s").classes("text-caption text-grey-5")
        if on_answer is None:  # shown again from the record: nobody can answer it here
            self._freeze()

    def _freeze(self) -> None:
        for _, element in self.fields.values():
            element.disable()  # type: ignore[attr-defined]
        for button in self.buttons:
            if isinstance(button, ui.button):
                button.disable()

    def _field(self, name: str, spec: dict[str, Any]) -> ui.element:
        label = str(spec.get("title") or name) + (" *" if name in self.required else "")
        hint = str(spec.get("description") or "")
        default = spec.get("default")
        kind = spec.get("type")
        choices = _choices(spec)
        if choices is not None:
            element: ui.element = ui.select(choices, label=label, value=default if default in choices else None)
        elif kind == "boolean":
            element = ui.checkbox(label, value=bool(default))
        elif kind in ("number", "integer"):
            element = ui.number(label, value=default if isinstance(default, int | float) else None,
                                min=spec.get("minimum"), max=spec.get("maximum"),
                                precision=0 if kind == "integer" else None)
        else:
            element = ui.input(label, value=default if isinstance(default, str) else "")
            if spec.get("format") == "password":
                element.props("type=password")
        element.classes("w-full").props("dense outlined" if kind != "boolean" else "dense")
        if hint and kind != "boolean":
            element.props["hint"] = hint  # a prop, never markup
        return testid(element, f"question-field-{name}")

    def content(self) -> dict[str, Any] | str:
        """The answer's content, or the sentence saying what is missing or wrong."""
        content: dict[str, Any] = {}
        for name, (spec, element) in self.fields.items():
            value = element.value  # type: ignore[attr-defined]
            if value in (None, "") and spec.get("type") != "boolean":
                if name in self.required:
                    return f"Please fill in {spec.get('title') or name}."
                continue
            if spec.get("type") == "integer" and isinstance(value, float):
                value = int(value)
            content[name] = value
        return content

    async def accept(self) -> None:
        content = self.content()
        if isinstance(content, str):
            ui.notify(content, type="warning", position="top")
            return
        await self.send("accept", content)

    async def send(self, action: str, content: dict[str, Any] | None) -> None:
        if self.on_answer is None:
            return
        answered = self.on_answer(self.question.question_id, action, content)
        if not isinstance(answered, bool):
            answered = await answered
        if not answered:
            ui.notify("This question is no longer open.", type="warning", position="top")

    def answered(self, answer: ToolCallAnswer) -> None:
        self._freeze()
        self.buttons.clear()
        text = "No answer in time: declined" if answer.timed_out else OUTCOMES.get(answer.action, answer.action)
        with self.buttons:
            testid(ui.label(text).classes("text-caption text-grey-5"), "question-outcome")
