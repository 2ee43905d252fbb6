// UnoCSS, fed only what it has not written yet (loaded before UnoCSS's deferred script reads its config).
//
// The safelist: utility classes that turns, tool cards, widgets and toasts use (plotly's markup too: cursor-*,
// svg-container; `hidden` is NiceGUI's set_visibility(False), `block` a Quasar button's label, `items-stretch`
// a toast's) but the page at load does not. UnoCSS writes the CSS for a class the first time it sees one, and a
// new style sheet restyles the whole page, in the middle of a reply; so these are written with the page (a
// browser test checks that a conversation with tools, widgets and a failed reply writes no CSS).
//
// NiceGUI hands UnoCSS every class name the first time it appears on the page, Quasar's and ours included; each
// name UnoCSS has not seen makes it write all its style sheets again, unchanged, and that restyles the whole
// page (at a fresh tab's first message, when a field takes focus, when a reply's footer comes). So UnoCSS is only
// given names that are utilities it has not written yet.
if (window.__unocss) {
  window.__unocss.safelist = [
    "hidden", "block", "items-stretch", "gap-0", "whitespace-pre-wrap", "break-words", "break-all",
    "font-mono", "text-left", "justify-end", "h-80", "max-w-2xl", "w-96", "max-w-full", "svg-container",
    "cursor-crosshair", "cursor-n-resize", "cursor-e-resize", "cursor-s-resize", "cursor-w-resize",
    "cursor-ne-resize", "cursor-nw-resize", "cursor-se-resize", "cursor-sw-resize", "cursor-ew-resize",
    "cursor-ns-resize",
  ];
  window.__unocss.runtime = {...window.__unocss.runtime, ready: runtime => {
    if (!runtime.uno || !runtime.uno.parseToken) return false;  // another UnoCSS: left as it is
    const extract = runtime.extract, seen = new Set(window.__unocss.safelist);
    runtime.extract = async classes => {
      const fresh = [];
      for (const name of classes.split(/\s+/)) {
        if (!name || seen.has(name)) continue;
        seen.add(name);
        if (await runtime.uno.parseToken(name)) fresh.push(name);
      }
      if (fresh.length) await extract(fresh.join(" "));
    };
    return false;  // as NiceGUI has it: UnoCSS's own observer stays off, NiceGUI's feeds it
  }};
}
