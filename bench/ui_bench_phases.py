"""The phases of bench/ui_stream_bench.py: one batch of tabs streaming at once, first-token trials, memory.

`stream` opens fresh tabs (one person each), scripts one reply per tab, presses Send in every tab at the same
moment (a timer in each page: Playwright presses keys in one tab after another), waits
until each has painted every token, and reads what the app (CPU, wire bytes), the browser (WebSocket
payload, paint times) and the browser's core (busy time) did meanwhile.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.ui_bench_page import Browser, Tab
from bench.ui_bench_rig import App, CpuMeter, Model, cores_busy_s, median, wire_delta


@dataclass
class Run:
    """One batch of tabs, each streaming one reply at the same time."""

    tabs: int
    tokens: int
    reply_bytes: int = 0
    complete: int = 0
    reloads: int = 0
    socket_closes: int = 0
    cpu_s: float = 0.0
    payload: list[int] = field(default_factory=list)  # WebSocket bytes received per tab (decompressed)
    wire: int = 0  # TCP bytes the app sent on its port during the run (compressed)
    lags_ms: list[float] = field(default_factory=list)  # paint - emission, every token of every tab
    first_ms: list[float] = field(default_factory=list)  # Send pressed -> first token painted, per tab
    last_ms: list[float] = field(default_factory=list)  # Send pressed -> last token painted, per tab
    extensions: list[str] = field(default_factory=list)
    browser_busy_s: float = 0.0  # the browser's core busy (Chromium, Playwright, the model server), same span
    wall_s: float = 0.0

    @property
    def browser_load(self) -> str:
        return f"browser core {self.browser_busy_s / self.wall_s:.0%} busy over {self.wall_s:.1f} s"

    @property
    def cpu_per_1k(self) -> float:
        return self.cpu_s / (self.tokens * self.tabs) * 1000


def stream(app: App, browser: Browser, model: Model, tabs: int, count: int, interval_s: float,
           shape: str = "prose", timeout_s: float = 60.0, first_delay_s: float = 0.0) -> Run:
    run = Run(tabs, count)
    opened = [browser.tab(app.url, inspect=(index == 0)) for index in range(tabs)]
    try:
        offset = opened[0].clock_offset()
        scripted = [model.script(count, interval_s, shape, first_delay_s) for _ in opened]
        rids = [rid for rid, _ in scripted]
        run.reply_bytes = scripted[0][1]
        for tab in opened:
            tab.type(f"Stream {count} tokens")
        opened[0].page.wait_for_timeout(1000)  # page loads and typing settle before the CPU is counted
        payload_before = [tab.ws_payload for tab in opened]
        wire_before = app.wire_bytes_sent()
        deadline = time.monotonic() + timeout_s
        home = os.sched_getaffinity(0)  # this thread's cores: the browser's
        browser_before, began = cores_busy_s(home), time.monotonic()
        with CpuMeter(app) as cpu:
            start_ms = (time.time() + offset + 0.3 + 0.05 * tabs) * 1000  # time for every tab to be told
            for tab in opened:
                tab.send_at(start_ms)
            for tab in opened:
                tab.wait_painted(count, rids, deadline)
            for tab in opened:
                tab.wait_idle(deadline - time.monotonic())
            opened[0].page.wait_for_timeout(300)  # what the app does right after the reply counts too
        run.cpu_s = cpu.seconds
        run.browser_busy_s, run.wall_s = cores_busy_s(home) - browser_before, time.monotonic() - began
        run.wire = wire_delta(wire_before, app.wire_bytes_sent())
        opened[0].page.wait_for_timeout(200)  # let Playwright deliver the last frame events
        run.payload = [tab.ws_payload - before for tab, before in zip(opened, payload_before, strict=True)]
        run.extensions = opened[0].extensions
        for tab in opened:
            measure_tab(run, tab, model, rids, count, offset)
    finally:
        for tab in opened:
            tab.close()
    return run


def measure_tab(run: Run, tab: Tab, model: Model, rids: list[int], count: int, offset_s: float) -> None:
    run.reloads += tab.navigations
    run.socket_closes += tab.ws_closed
    try:
        state = tab.state()
    except Exception:
        return
    mine = [(rid, state["replies"][str(rid)]) for rid in rids if str(rid) in state["replies"]]
    if not mine:
        return
    rid, reply = mine[0]
    paint = [t for t in reply["paint"] if t is not None]
    if len(paint) == count:
        run.complete += 1
    emitted = model.emissions[rid].emitted
    run.lags_ms += [p - offset_s * 1000 - e * 1000 for p, e in zip(paint, emitted, strict=False)]
    if state["keydown"] and paint:
        run.first_ms.append(paint[0] - state["keydown"][-1])
        run.last_ms.append(paint[-1] - state["keydown"][-1])


def first_token(app: App, browser: Browser, model: Model, trials: int, delay_s: float) -> dict[str, float]:
    """(a): Enter -> first token painted, minus the model's first-token delay (the time from reading the
    request to writing the first token, as the server recorded it); one tab, `trials` replies of 10 tokens,
    20 ms apart."""
    tab = browser.tab(app.url)
    painted, dom, after_emit, to_server = [], [], [], []
    try:
        offset = tab.clock_offset()
        for trial in range(trials + 2):  # two warm-up replies
            rid, _ = model.script(10, 0.02, first_delay_s=delay_s)
            tab.type(f"Trial {trial}")
            tab.page.wait_for_timeout(300)
            tab.enter()
            tab.wait_painted(10, [rid], time.monotonic() + 30)
            tab.wait_idle(30)
            tab.page.wait_for_timeout(200)
            if trial < 2:
                continue
            state = tab.state()
            if str(rid) not in state["replies"] or not state["keydown"]:
                continue  # not painted within 30 s: left out (the table shows how many counted)
            reply, keydown = state["replies"][str(rid)], state["keydown"][-1]
            emission = model.emissions[rid]
            delay_ms = (emission.emitted[0] - emission.arrived) * 1000
            painted.append(reply["paint"][0] - keydown - delay_ms)
            dom.append(reply["dom"][0] - keydown - delay_ms)
            after_emit.append(reply["paint"][0] - offset * 1000 - emission.emitted[0] * 1000)
            to_server.append(emission.arrived * 1000 - (keydown - offset * 1000))
    finally:
        tab.close()
    if not painted:
        raise RuntimeError("(a): no reply was painted")
    return {"counted": len(painted), "painted": median(painted), "dom": median(dom), "after_emit": median(after_emit),
            "to_server": median(to_server), "min": min(painted), "max": max(painted)}


def memory(folder: Path, model: Model, browser: Browser, app_cores: set[int], home: set[int],
           app_root: Path | None, tabs: int = 20) -> dict[str, float]:
    """(f): RSS of a fresh app with one warm tab, then with `tabs` more idle tabs connected."""
    app = App(folder, model, app_cores, home, app_root)
    opened: list[Tab] = []
    try:
        fresh = app.rss_mb()
        opened.append(browser.tab(app.url))
        time.sleep(3)
        one = app.rss_mb()
        opened += [browser.tab(app.url) for _ in range(tabs)]
        time.sleep(3)
        many = app.rss_mb()
    finally:
        for tab in opened:
            tab.close()
        app.stop()
    return {"fresh": fresh, "one": one, "many": many, "per_tab": (many - one) / tabs, "tabs": tabs}
