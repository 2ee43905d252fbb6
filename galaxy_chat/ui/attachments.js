// Files for the next message (galaxy_chat/ui/attachments.py): one element above the input. It takes files
// from its button, from a drop anywhere on the page and from a paste, sends each to the server with its own
// progress bar (a plain POST of the file's bytes: the server decides what it is), and shows a chip per file the
// server accepted. Names and summaries are data from the server, shown as text by Vue, never as HTML.
export default {
  template: `
    <div class="gc-attachments" data-testid="attachments">
      <input ref="picker" type="file" multiple hidden data-testid="attach-input" @change="picked">
      <div v-for="file in files" :key="file.id" class="gc-chip" data-testid="attachment-chip"
           :data-kind="file.kind" :title="file.name">
        <button type="button" class="gc-chip-main" @click="$emit('preview', file.id)">
          <span class="gc-chip-name">{{ file.name }}</span>
          <span class="gc-chip-meta">{{ file.summary || size(file.size) }}</span>
        </button>
        <button type="button" class="gc-chip-remove" aria-label="Remove" data-testid="attachment-remove"
                @click="$emit('remove', file.id)">×</button>
      </div>
      <div v-for="sending in sending" :key="sending.key" class="gc-chip gc-chip-sending" data-testid="attachment-sending">
        <span class="gc-chip-name">{{ sending.name }}</span>
        <span class="gc-chip-meta">{{ Math.round(sending.progress * 100) }}% of {{ size(sending.size) }}</span>
        <div class="gc-chip-bar" :style="{ width: (sending.progress * 100) + '%' }"></div>
      </div>
    </div>`,
  props: { files: Array, url: String, maxBytes: Number, disabled: Boolean },
  data() {
    return { sending: [], counter: 0 };
  },
  mounted() {
    this.onDrag = (event) => {
      if (!this.disabled && event.dataTransfer && [...event.dataTransfer.types].includes("Files")) {
        event.preventDefault();
        document.body.classList.add("gc-dropping");
      }
    };
    this.onLeave = (event) => {
      if (!event.relatedTarget) document.body.classList.remove("gc-dropping");
    };
    this.onDrop = (event) => {
      document.body.classList.remove("gc-dropping");
      if (this.disabled || !event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      this.send([...event.dataTransfer.files]);
    };
    this.onPaste = (event) => {
      const files = event.clipboardData ? [...event.clipboardData.files] : [];
      if (this.disabled || !files.length) return;  // text pastes as text
      event.preventDefault();
      this.send(files);
    };
    document.addEventListener("dragover", this.onDrag);
    document.addEventListener("dragleave", this.onLeave);
    document.addEventListener("drop", this.onDrop);
    document.addEventListener("paste", this.onPaste);
  },
  unmounted() {
    document.removeEventListener("dragover", this.onDrag);
    document.removeEventListener("dragleave", this.onLeave);
    document.removeEventListener("drop", this.onDrop);
    document.removeEventListener("paste", this.onPaste);
  },
  methods: {
    pick() {
      if (!this.disabled) this.$refs.picker.click();
    },
    picked() {
      this.send([...this.$refs.picker.files]);
      this.$refs.picker.value = "";
    },
    size(bytes) {
      if (bytes < 1024) return bytes + " B";
      if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(0) + " KB";
      return (bytes / 1024 / 1024).toFixed(1) + " MB";
    },
    send(files) {
      for (const file of files) {
        if (file.size > this.maxBytes) {  // the server checks too; this spares sending what it would refuse
          this.$emit("refused", { name: file.name, reason: `is larger than ${this.size(this.maxBytes)}` });
          continue;
        }
        this.upload(file);
      }
    },
    upload(file) {
      const entry = { key: ++this.counter, name: file.name || "pasted file", size: file.size, progress: 0 };
      this.sending.push(entry);
      const live = this.sending[this.sending.length - 1];  // the reactive copy: its progress redraws the bar
      const done = () => { this.sending = this.sending.filter((e) => e.key !== entry.key); };
      const request = new XMLHttpRequest();
      request.open("POST", (this.url.startsWith("/") ? window.path_prefix : "") + this.url);
      request.setRequestHeader("X-File-Name", encodeURIComponent(entry.name));
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) live.progress = event.loaded / event.total;
      };
      request.onload = () => {
        done();
        let body = {};
        try { body = JSON.parse(request.responseText); } catch (error) { /* the reason below says enough */ }
        if (request.status === 200) this.$emit("uploaded", body);
        else this.$emit("refused", { name: entry.name, reason: body.detail || `could not be uploaded (${request.status})` });
      };
      request.onerror = () => {
        done();
        this.$emit("refused", { name: entry.name, reason: "could not be uploaded: the connection failed" });
      };
      request.send(file);
    },
  },
};
