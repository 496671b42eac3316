// A virtualised list of fixed-height rows: only the rows in view (plus a margin) exist in the DOM, so
// 10,000 meters cost the same as 30. Rows are <a> links with a roving tabindex; arrow keys, Page Up/Down,
// Home and End move through the whole list, not only the rendered part.

export interface RowRenderer {
  create(): HTMLAnchorElement;
  // Fills `el` for list position `index`.
  update(el: HTMLAnchorElement, index: number): void;
}

interface Slot {
  el: HTMLAnchorElement;
  index: number;  // list position shown, -1 when unused
}

const kOverscanRows = 6;

export class VirtualList {
  readonly viewport: HTMLDivElement;
  private readonly canvas: HTMLDivElement;
  private slots: Slot[] = [];
  private count = 0;
  private row_height_px: number;
  private active = 0;
  private frame_requested = false;

  constructor(private readonly renderer: RowRenderer, row_height_px: number, label: string) {
    this.row_height_px = row_height_px;
    this.viewport = document.createElement("div");
    this.viewport.className = "vlist";
    // A scrollable region of plain links (rows keep their link semantics for assistive technology).
    this.viewport.setAttribute("role", "region");
    this.viewport.setAttribute("aria-label", label);
    this.canvas = document.createElement("div");
    this.canvas.className = "vlist-canvas";
    this.viewport.appendChild(this.canvas);
    this.viewport.addEventListener("scroll", () => this.request_render(), { passive: true });
    this.viewport.addEventListener("keydown", (ev) => this.on_key(ev));
  }

  set_row_height(px: number): void {
    if (px === this.row_height_px) return;
    this.row_height_px = px;
    this.canvas.style.height = `${this.count * px}px`;
    for (const s of this.slots) s.index = -1;
    this.render();
  }

  // New list length or order: every visible row is redrawn.
  reset(count: number): void {
    this.count = count;
    this.canvas.style.height = `${count * this.row_height_px}px`;
    this.active = Math.min(this.active, Math.max(0, count - 1));
    for (const s of this.slots) s.index = -1;
    this.render();
  }

  // Redraws the rendered rows whose position is in `indices` (positions not in view cost nothing).
  refresh(indices: Iterable<number>): void {
    if (this.slots.length === 0) return;
    const first = this.slots[0].index;
    for (const i of indices) {
      // Slots hold consecutive positions starting at slots[0].index.
      const k = i - first;
      if (k >= 0 && k < this.slots.length && this.slots[k].index === i) this.renderer.update(this.slots[k].el, i);
    }
  }

  refresh_all(): void {
    for (const s of this.slots) if (s.index >= 0) this.renderer.update(s.el, s.index);
  }

  visible_range(): [number, number] {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || window.innerHeight;
    const first = Math.max(0, Math.floor(top / this.row_height_px) - kOverscanRows);
    const last = Math.min(this.count - 1, Math.ceil((top + height) / this.row_height_px) + kOverscanRows);
    return [first, last];
  }

  private request_render(): void {
    if (this.frame_requested) return;
    this.frame_requested = true;
    requestAnimationFrame(() => {
      this.frame_requested = false;
      this.render();
    });
  }

  render(): void {
    const [first, last] = this.visible_range();
    const needed = Math.max(0, last - first + 1);
    while (this.slots.length < needed) {
      const el = this.renderer.create();
      el.tabIndex = -1;
      this.canvas.appendChild(el);
      this.slots.push({ el, index: -1 });
    }
    while (this.slots.length > needed) this.slots.pop()!.el.remove();
    // Keep each row element on the same position when it stays in view, so a scroll by one row
    // redraws one row, not all of them.
    const by_index = new Map<number, Slot>();
    const free: Slot[] = [];
    for (const s of this.slots) {
      if (s.index >= first && s.index <= last && !by_index.has(s.index)) by_index.set(s.index, s);
      else free.push(s);
    }
    const ordered: Slot[] = [];
    for (let i = first; i <= last; i++) {
      let slot = by_index.get(i);
      if (!slot) {
        slot = free.pop()!;
        slot.index = i;
        slot.el.style.transform = `translateY(${i * this.row_height_px}px)`;
        this.renderer.update(slot.el, i);
      }
      slot.el.tabIndex = i === this.active ? 0 : -1;
      ordered.push(slot);
    }
    this.slots = ordered;
    // With no row at the active position in view, the first rendered row takes the Tab stop.
    if (ordered.length > 0 && !ordered.some((s) => s.index === this.active)) ordered[0].el.tabIndex = 0;
  }

  private on_key(ev: KeyboardEvent): void {
    if (this.count === 0) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / this.row_height_px) - 1);
    const current = this.focused_index() ?? this.active;
    let next = current;
    switch (ev.key) {
      case "ArrowDown": next = current + 1; break;
      case "ArrowUp": next = current - 1; break;
      case "PageDown": next = current + page; break;
      case "PageUp": next = current - page; break;
      case "Home": next = 0; break;
      case "End": next = this.count - 1; break;
      default: return;
    }
    ev.preventDefault();
    this.focus_index(Math.max(0, Math.min(this.count - 1, next)));
  }

  private focused_index(): number | null {
    const el = document.activeElement;
    for (const s of this.slots) if (s.el === el) return s.index;
    return null;
  }

  focus_index(index: number): void {
    this.active = index;
    const top = index * this.row_height_px;
    const view_top = this.viewport.scrollTop;
    const view_height = this.viewport.clientHeight;
    if (top < view_top) this.viewport.scrollTop = top;
    else if (top + this.row_height_px > view_top + view_height) this.viewport.scrollTop = top + this.row_height_px - view_height;
    this.render();
    for (const s of this.slots) if (s.index === index) s.el.focus({ preventScroll: true });
  }
}
