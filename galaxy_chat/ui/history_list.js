// The person's chats in the history panel (galaxy_chat/ui/history_panel.py): one element for the whole list,
// drawn here from its props. Titles, previews and snippets are data from the server, only ever set as text
// (textContent), never as HTML. Groups (Pinned, Today, Yesterday, Previous 7 days, Older) follow the browser's
// own clock and time zone. Scrolling near the end asks for the next page; the search box asks the server.
export default {
  template: `
    <div class="gc-history">
      <input ref="search" class="gc-history-search" type="search" placeholder="Search chats"
             aria-label="Search chats" data-testid="history-search" @input="typed" @keydown.escape="clear">
      <div ref="list" class="gc-history-list" data-testid="history-list"></div>
      <div ref="end" class="gc-history-end"></div>
    </div>`,
  props: { items: Array, hits: Array, query: String, current: String, more: Boolean },
  mounted() {
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && this.more && !this.query) this.$emit("more");
    });
    this.observer.observe(this.$refs.end);
    this.draw();
  },
  unmounted() {
    this.observer.disconnect();
  },
  watch: {
    items() { this.draw(); },
    hits() { this.draw(); },
    current() { this.draw(); },
    query() { this.draw(); },
  },
  methods: {
    typed() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.$emit("search", this.$refs.search.value.trim()), 250);
    },
    clear() {
      this.$refs.search.value = "";
      this.$emit("search", "");
    },
    group(item) {
      if (item.pinned) return "Pinned";
      const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
      const days = Math.round((day(new Date()) - day(new Date(item.updated))) / 86400000);
      return days <= 0 ? "Today" : days === 1 ? "Yesterday" : days < 7 ? "Previous 7 days" : "Older";
    },
    el(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    },
    button(icon, label, action) {
      const b = this.el("button", "gc-history-action material-icons", icon);
      b.type = "button";
      b.title = label;
      b.setAttribute("aria-label", label);
      b.dataset.testid = "history-" + action;
      b.addEventListener("click", (event) => { event.stopPropagation(); this.act(action, b.closest("[data-id]")); });
      return b;
    },
    act(action, row) {
      const id = row.dataset.id;
      if (action === "pin") this.$emit("pin", { id, pinned: row.dataset.pinned !== "1" });
      if (action === "delete") this.$emit("remove", id);
      if (action === "rename") this.rename(row);
    },
    rename(row) {
      const title = row.querySelector(".gc-history-title");
      const box = this.el("input", "gc-history-rename");
      box.value = title.textContent;
      box.dataset.testid = "history-rename-input";
      title.replaceWith(box);
      box.focus();
      box.select();
      let done = false;
      const finish = (save) => {
        if (done) return;
        done = true;
        const value = box.value.trim();
        if (save && value && value !== title.textContent) this.$emit("rename", { id: row.dataset.id, title: value });
        box.replaceWith(title);
      };
      box.addEventListener("keydown", (event) => {
        if (event.key === "Enter") finish(true);
        if (event.key === "Escape") finish(false);
        event.stopPropagation();
      });
      box.addEventListener("blur", () => finish(true));
      box.addEventListener("click", (event) => event.stopPropagation());
    },
    row(item, snippet) {
      const row = this.el("div", "gc-history-item" + (item.id === this.current ? " gc-current" : ""));
      row.dataset.id = item.id;
      row.dataset.pinned = item.pinned ? "1" : "0";
      row.dataset.testid = "history-item";
      row.addEventListener("click", () => this.$emit("open", item.id));
      const text = this.el("div", "gc-history-text");
      text.appendChild(this.el("div", "gc-history-title", item.title || "New chat"));
      if (snippet) {
        const line = this.el("div", "gc-history-snippet");
        line.dataset.testid = "history-snippet";
        for (const [piece, match] of snippet) line.appendChild(this.el(match ? "mark" : "span", "", piece));
        text.appendChild(line);
      }
      row.appendChild(text);
      if (!snippet) {
        row.appendChild(this.button(item.pinned ? "push_pin" : "keep", item.pinned ? "Unpin" : "Pin", "pin"));
        row.appendChild(this.button("edit", "Rename", "rename"));
        row.appendChild(this.button("delete", "Delete", "delete"));
      }
      return row;
    },
    draw() {
      const list = this.$refs.list;
      if (!list) return;
      // Rows are drawn again only when what they show changed: a row replaced between a press and its release
      // would lose the click.
      const drawn = JSON.stringify([this.items, this.hits, this.query, this.current]);
      if (drawn === this.drawn) return;
      this.drawn = drawn;
      list.replaceChildren();
      if (this.query) {
        if (!this.hits.length) list.appendChild(this.el("div", "gc-history-empty", "No chat matches."));
        for (const hit of this.hits) list.appendChild(this.row(hit, hit.snippet));
        return;
      }
      if (!this.items.length) list.appendChild(this.el("div", "gc-history-empty", "Your chats will be listed here."));
      let last = null;
      for (const item of this.items) {
        const name = this.group(item);
        if (name !== last) list.appendChild(this.el("div", "gc-history-group", (last = name)));
        list.appendChild(this.row(item));
      }
    },
  },
};
