"""The `python` tool: run the model's (or the person's `/python ...`) code in the sandbox of tools/sandbox.py."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from pathlib import Path

from pydantic import BaseModel, Field

from galaxy_chat.settings import Settings
from galaxy_chat.vocabulary.widgets import File, Image, Markdown, Plot, Widget
from tools.base import Tool, ToolContext, ToolResult
from tools.sandbox.limits import Limits
from tools.sandbox.paths import precompile_bytecode, site_packages
from tools.sandbox.python_sandbox import PythonSandbox, RunOutcome, SandboxUnavailable
from tools.sandbox.run_files import RunFiles

log = logging.getLogger(__name__)

MODEL_STREAM_CHARS = 16_000  # per stream: the model's context is precious, the person sees the full capture
FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)


class PythonParams(BaseModel):
    code: str = Field(
        min_length=1, max_length=100_000,
        description="Python 3 source. print() what you need; a plotly figure left in `fig` and PNG files written "
                    "to the working directory are shown to the person. The chat's uploaded files, if any, are in "
                    "data/ (read-only); files written to out/ are given to the person.",
    )


def sandbox_limits(settings: Settings, timeout_s: float) -> Limits:
    """Our own wall clock ends a little before the registry's timeout, so the run reports why it stopped."""
    return Limits(memory_mb=settings.python_memory_mb, cpu_s=settings.python_cpu_s,
                  wall_s=max(0.5, timeout_s - min(1.0, timeout_s * 0.2)), output_bytes=settings.python_output_kb * 1024)


def app_paths(settings: Settings) -> list[Path]:
    """What the sandbox must never show: the app's folder (with `.env`), its data and its logs."""
    root = Path.cwd()
    return [root, *(root / folder for folder in (settings.data_dir, settings.log_dir))]


async def run_files(context: ToolContext) -> RunFiles | None:
    """The chat's uploaded files for the run (data/, and an out/ folder), when the call belongs to a chat."""
    if context.files is None:
        return None
    return RunFiles(inputs=await context.files.sandbox_files(), workspace=context.files.workspace)


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}\n[output truncated] {len(text) - 2 * keep} characters omitted\n{text[-keep:]}"


def code_block(text: str) -> str:
    """A fenced block that the text itself cannot close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.removesuffix("\n")
    return f"{fence}text\n{body}\n{fence}"


class CodeExecutionTool(Tool):
    name = "python"
    description = (
        "Run Python 3 code in a sandbox: no network, no access to this app's files, limited CPU time, memory and "
        "output. numpy, pandas and plotly can be imported when installed. Returns stdout, stderr and the exit "
        "status. Leave a plotly figure in a variable named `fig`, or write PNG files to the working directory, "
        "to show them to the person. Files uploaded to the chat are in the folder data/ under their names "
        "(read-only), and files written to out/ are handed to the person. Each call starts fresh: nothing is "
        "kept between calls."
    )
    Params = PythonParams
    command = "python"
    command_help = "/python <code>"

    def __init__(self, settings: Settings, sandbox: PythonSandbox | None = None) -> None:
        super().__init__(settings)
        self.sandbox = sandbox or PythonSandbox(
            sandbox_limits(settings, self.effective_timeout()), mode=settings.python_sandbox,
            allow_unsandboxed=settings.allow_unsandboxed_code, hidden=app_paths(settings))
        log.info("python tool: %s", self.sandbox.describe())
        if self.sandbox.active is not None:
            precompile_bytecode(site_packages())

    def startup_warning(self) -> str | None:
        return self.sandbox.startup_warning()

    def command_arguments(self, text: str) -> dict[str, str]:
        """`/python` accepts the code bare or in a ```python fence."""
        match = FENCE.match(text)
        return {"code": match.group(1) if match else text}

    async def run(self, args: PythonParams, context: ToolContext) -> ToolResult:
        reduced = self.sandbox.reduced_isolation
        try:
            outcome = await self.sandbox.run(args.code, await run_files(context))
        except asyncio.CancelledError:
            # The sandbox has already SIGKILLed the process group and cgroup in its `finally`; stop here too.
            log.info("python tool: run cancelled, sandbox processes killed")
            raise
        except SandboxUnavailable as exc:
            return ToolResult(text=str(exc), is_error=True)
        except OSError as exc:
            log.error("python tool: the sandbox could not start", exc_info=True)
            return ToolResult(text=f"The sandbox could not start ({exc}).", is_error=True, reduced_isolation=reduced,
                              detail=repr(exc))
        return self.result(outcome, reduced)

    def status_line(self, outcome: RunOutcome) -> str:
        if outcome.timed_out:
            return f"timed out after {self.sandbox.limits.wall_s:g} s and was stopped"
        if outcome.signal == signal.SIGXCPU:
            return f"stopped: it used up its CPU time limit of {self.sandbox.limits.cpu_s} s"
        if outcome.signal is not None:
            name = signal.Signals(outcome.signal).name if outcome.signal in signal.valid_signals() else outcome.signal
            return f"killed by signal {name}"
        return f"exit status {outcome.exit_code}"

    def result(self, outcome: RunOutcome, reduced: bool) -> ToolResult:
        status = self.status_line(outcome)
        failed = outcome.timed_out or outcome.signal is not None or outcome.exit_code != 0
        widgets: list[Widget] = []
        shown: list[str] = []
        if outcome.report.figure:
            widgets.append(Plot(figure=json.loads(outcome.report.figure)))
            shown.append("the plotly figure in `fig`")
        for name, png in outcome.report.images:
            widgets.append(Image(data=png, alt=name))
            shown.append(name)
        for output in outcome.outputs:  # out/: images are shown, other files offered for download
            image = output.mime.startswith("image/")
            widgets.append(Image(data=output.data, alt=output.name) if image else
                           File(name=output.name, data=output.data, mime=output.mime))
            shown.append(f"out/{output.name}")
        notes = [*outcome.notes, *outcome.report.notes]
        if shown:
            notes.append(f"Shown to the person: {', '.join(shown)}.")
        parts = [f"{status} ({outcome.seconds:.2f} s, sandbox: {self.sandbox.label})"]
        for label, text in (("stdout", outcome.stdout), ("stderr", outcome.stderr)):
            parts.append(f"{label}:\n{shorten(text, MODEL_STREAM_CHARS)}" if text else f"{label}: (empty)")
        text = "\n".join([*parts, *notes])
        widgets.insert(0, Markdown(text=self.markdown(outcome, status, notes, reduced)))
        return ToolResult(text=text, widgets=widgets, is_error=failed, reduced_isolation=reduced,
                          detail=f"python run: {status}, {outcome.seconds:.3f} s, mode {self.sandbox.active}")

    def markdown(self, outcome: RunOutcome, status: str, notes: list[str], reduced: bool) -> str:
        lines = [f"**Python: {status}** · {outcome.seconds:.2f} s"
                 + (" · reduced isolation" if reduced else "")]
        if outcome.stdout:
            lines.append(code_block(outcome.stdout))
        if outcome.stderr:
            lines += ["**stderr**", code_block(outcome.stderr)]
        lines += [f"_{note}_" for note in notes]
        return "\n\n".join(lines)
