"""Runs inside the sandbox (its source is passed with `python -I -B -c`): executes the person's code, then
sends a plotly figure left in `fig` and PNG files of the working dir back through an inherited pipe.

Self-contained on purpose: the sandbox cannot see the app's packages. The report is untrusted data to the
app (the code can write to the pipe too); the app checks and caps it. Modules beyond `os` and `sys` are
imported only when needed: every import here is start-up time of every call.

argv: report_fd max_images image_bytes figure_bytes
"""

from __future__ import annotations

import builtins
import os
import sys

FILENAME = "<python>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def exit_status(code: object) -> int:
    """What `sys.exit(code)` means as a process exit status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def execute(source: str) -> tuple[int, dict[str, object]]:
    """Run `source` as `__main__`; print a traceback without this runner's frame, as plain Python would."""
    namespace: dict[str, object] = {"__name__": "__main__", "__builtins__": builtins}
    sys.argv = [FILENAME]
    try:
        exec(compile(source, FILENAME, "exec"), namespace)
    except SystemExit as exc:
        return exit_status(exc.code), namespace
    except BaseException as exc:
        import linecache
        import traceback

        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        return 1, namespace
    return 0, namespace


def figure_json(fig: object, limit: int) -> tuple[str | None, str | None]:
    """(plotly JSON, note) for the value of `fig`."""
    try:
        import plotly.io

        text = plotly.io.to_json(fig, validate=False)
    except Exception as exc:
        return None, f"`fig` could not be shown as a plotly figure ({type(exc).__name__}: {exc})"
    if len(text) > limit:
        return None, f"`fig` is too large to show ({len(text)} bytes, limit {limit})"
    return text, None


def png_files(max_images: int, image_bytes: int) -> tuple[list[dict[str, str]], list[str]]:
    images: list[dict[str, str]] = []
    notes: list[str] = []
    names = sorted(name for name in os.listdir(".") if name.lower().endswith(".png"))
    for name in names:
        if len(images) == max_images:
            notes.append(f"only the first {max_images} PNG files are shown")
            break
        try:
            if not os.path.isfile(name) or os.path.getsize(name) > image_bytes:
                notes.append(f"{name} was skipped (not a file, or larger than {image_bytes} bytes)")
                continue
            with open(name, "rb") as file:
                data = file.read(image_bytes + 1)
        except OSError as exc:
            notes.append(f"{name} could not be read ({exc.strerror})")
            continue
        if not data.startswith(PNG_SIGNATURE):
            notes.append(f"{name} is not a PNG image")
            continue
        import base64

        images.append({"name": name, "png": base64.b64encode(data).decode()})
    return images, notes


def flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105  (contextlib would be one more import per call)
            stream.flush()
        except Exception:  # closed or replaced by the code
            pass


def report(namespace: dict[str, object], report_fd: int, max_images: int, image_bytes: int,
           figure_bytes: int) -> None:
    """Write the figure and images (if any) to the report pipe as one JSON object."""
    found: dict[str, object] = {}
    notes: list[str] = []
    if namespace.get("fig") is not None:
        found["figure"], note = figure_json(namespace["fig"], figure_bytes)
        notes += [note] if note else []
    images, image_notes = png_files(max_images, image_bytes)
    notes += image_notes
    if images:
        found["images"] = images
    if notes:
        found["notes"] = notes
    if found:
        import json

        with os.fdopen(report_fd, "w") as channel:
            json.dump(found, channel)


def main() -> None:
    report_fd, max_images, image_bytes, figure_bytes = (int(arg) for arg in sys.argv[1:5])
    for stream in (sys.stdout, sys.stderr):  # lines reach the app even when the run is killed later
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.set_inheritable(report_fd, False)  # processes the code starts do not get the pipe
    source = sys.stdin.read()
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # input() sees end of file
    status, namespace = execute(source)
    flush()
    try:
        report(namespace, report_fd, max_images, image_bytes, figure_bytes)
    except BaseException as exc:  # a broken figure or a full pipe must not hide the code's own result
        print(f"[sandbox] results could not be collected: {type(exc).__name__}: {exc}", file=sys.stderr)
    flush()
    os._exit(status)  # no waiting for threads the code left running


if __name__ == "__main__":
    main()
