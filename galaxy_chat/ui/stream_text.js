// A reply's text while it streams (galaxy_chat/ui/streaming_markdown.py). The props carry a snapshot: `html`
// (finished blocks), `tail` (the open end) and `seq` (how many changes they hold). Changes also come as
// "gc_text" messages {i: element id, n: change number, k: keep the first k characters of the tail (all when
// absent), s: then add s, c: then move the first c characters into the finished part}; a change the
// snapshot already holds is skipped. Strings only, never code: the HTML has been sanitised on the server.
export default {
  template: `<div><div ref="done" class="gc-done"></div><div ref="tail" class="gc-tail"></div></div>`,
  props: { html: String, tail: String, seq: Number, eid: Number },
  mounted() {
    this.reset();
    const waiting = window.gcTextEarly.get(this.eid) || []; // see page_assets.py
    window.gcTextEarly.delete(this.eid);
    waiting.forEach((message) => this.patch(message));
  },
  watch: {
    seq() {
      this.reset(); // a newer snapshot
    },
  },
  methods: {
    reset() {
      this.at = this.seq || 0;
      this.$refs.done.innerHTML = this.html || "";
      this.text = this.tail || "";
      this.$refs.tail.innerHTML = this.text;
    },
    patch(message) {
      if (message.n <= this.at) return;
      this.at = message.n;
      const keep = message.k === undefined ? this.text.length : message.k;
      const appended = keep === this.text.length && !message.c;
      this.text = this.text.slice(0, keep) + message.s;
      if (message.c) {
        this.$refs.done.insertAdjacentHTML("beforeend", this.text.slice(0, message.c));
        this.text = this.text.slice(message.c);
      }
      if (appended && this.appendText(message.s)) return;
      this.$refs.tail.innerHTML = this.text;
    },
    // Most changes add plain words to the open block: added to its last text node, they cost a fraction of
    // parsing the whole tail again. Anything the HTML parser would treat specially is parsed with the rest.
    appendText(added) {
      if (/[<&\r\0]/.test(added)) return false;
      let node = this.$refs.tail.lastChild;
      while (node && node.nodeType === Node.ELEMENT_NODE) node = node.lastChild;
      if (!node || node.nodeType !== Node.TEXT_NODE) return false;
      node.appendData(added);
      return true;
    },
  },
};
