// The chat page's own script (ours, trusted), loaded once for every page by page_assets.py: streamed text
// changes, the thinking dots, taking the input's text, following new text, copy buttons, Esc to stop.
// Client-side on purpose: following the newest text and adding copy buttons costs the server nothing.
// NiceGUI's page internals this script relies on, in one place (tests/page/test_nicegui_internals.py checks that
// NiceGUI still has them): the socket.io connection `window.socket`, the count of messages received that a
// reconnect resumes from `window.nextMessageId`, and `getElement(id)`, the Vue component of an element.
const niceGUI = {
  socket: () => window.socket,
  element: id => getElement(id),
  // Whether a numbered message is new; a reconnect replays messages after the count, so it must be kept.
  fresh: messageId => {
    if (messageId === undefined) return true;
    if (messageId < window.nextMessageId) return false;
    window.nextMessageId = messageId + 1;
    return true;
  },
};

// NiceGUI's plotly element resizes its plot from a ResizeObserver without waiting on the promise; a callback that
// runs while its plot is removed or hidden (a chat cleared or swapped) makes Plotly reject that promise ("Resize
// must be passed a displayed plot div element"). Nothing is lost: that one rejection is not an error.
window.addEventListener("unhandledrejection", event => {
  const reason = event.reason && event.reason.message || String(event.reason);
  if (reason.startsWith("Resize must be passed a displayed plot div")) event.preventDefault();
});

(() => {
  // Changes to streaming replies ("gc_text", see stream_text.js) are taken from the moment the socket
  // exists: the first may come before the component that shows them has loaded; those wait for it here.
  window.gcTextEarly = new Map();
  const deliver = message => {
    const view = niceGUI.element(message.i);
    if (view && view.patch) return view.patch(message);
    if (!window.gcTextEarly.has(message.i)) window.gcTextEarly.set(message.i, []);
    window.gcTextEarly.get(message.i).push(message);
  };
  const listen = () => {
    const socket = niceGUI.socket();
    if (!socket) return setTimeout(listen, 5);  // NiceGUI makes it once the page has mounted
    socket.on('gc_text', message => {
      if (niceGUI.fresh(message._id)) deliver(message);  // replays after a reconnect are skipped
    });
  };
  listen();
  setInterval(() => {  // the "thinking" dots step (page CSS); hidden ones (text has come) are left alone
    for (const dots of document.getElementsByClassName('gc-thinking')) {
      if (dots.checkVisibility && !dots.checkVisibility()) continue;  // (older Safari has no checkVisibility)
      dots.dataset.step = dots.dataset.step % 3 + 1 || 1;
    }
  }, 400);
  // The chat box's text, taken out of it (the box is emptied), to go with a send event; null when the
  // button shows Stop or the box is empty.
  window.gcTakeInput = (inputId, buttonId) => {
    const button = buttonId === null ? null : document.getElementById('c' + buttonId);
    if (button && button.dataset.state === 'stop') return null;
    const box = niceGUI.element(inputId);
    const text = box ? box.inputValue : null;
    if (!text || !text.trim()) return null;
    box.inputValue = '';
    return text;
  };
  let follow = true;
  const atBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  // "Jump to latest", shown while the view does not follow new text.
  const jumpButton = document.createElement('button');
  Object.assign(jumpButton, {type: 'button', className: 'gc-jump', title: 'Jump to latest'});
  jumpButton.setAttribute('aria-label', 'Jump to latest');
  jumpButton.dataset.testid = 'jump-latest';
  jumpButton.innerHTML = '<i class="material-icons">south</i>';
  jumpButton.addEventListener('click', () => window.gcJumpToLatest());
  document.body.appendChild(jumpButton);
  const jump = () => jumpButton;
  const showJump = () => { const b = jump(); if (b) b.style.display = follow ? 'none' : 'inline-flex'; };
  window.gcJumpToLatest = () => {
    follow = true; window.scrollTo({top: document.documentElement.scrollHeight}); showJump();
  };
  window.addEventListener('scroll', () => { follow = atBottom(); showJump(); }, {passive: true});
  const addCopyButtons = () => {
    document.querySelectorAll('.gc-md pre:not([data-gc-copy])').forEach(pre => {
      if (pre.closest('.gc-tail')) return;  // still streaming: replaced at the next update
      pre.setAttribute('data-gc-copy', '1');
      const button = document.createElement('button');
      button.type = 'button'; button.className = 'gc-copy'; button.textContent = 'Copy';
      button.addEventListener('click', () => {
        const code = pre.querySelector('code') || pre;
        navigator.clipboard.writeText(code.innerText).then(() => { button.textContent = 'Copied'; });
        setTimeout(() => { button.textContent = 'Copy'; }, 1500);
      });
      pre.appendChild(button);
    });
  };
  // Once per frame at most, however many changes came in it; scroll only when the page grew.
  let queued = false, height = 0;
  const settle = () => {
    queued = false;
    addCopyButtons();
    const now = document.documentElement.scrollHeight;
    if (now === height) return;
    height = now;
    if (follow) window.scrollTo({top: now}); else showJump();
  };
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(settle); }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('keydown', event => {
    if (event.key !== 'Escape') return;
    const stop = document.querySelector('button[data-state="stop"]');
    if (stop && stop.offsetParent !== null) stop.click();
  });
})();
