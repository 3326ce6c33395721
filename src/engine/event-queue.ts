// A binary min-heap of scheduled engine events keyed by (time, class, sequence): deterministic, with no
// dependence on insertion accidents. Payloads live in parallel arrays; the heap stores slot numbers.

export const EventClass = {
  /** An order message reaches the exchange. */
  OrderArrival: 1,
  /** The exchange's response reaches the strategy. */
  Response: 2,
  /** A strategy timer fires. */
  Timer: 3,
  /** The engine samples the exchange-side mid a fixed time after a fill (adverse selection). */
  Markout: 4,
} as const;

export class EventQueue<T> {
  private time = new Float64Array(64);
  private cls = new Uint8Array(64);
  private seq = new Float64Array(64);
  private payload: (T | undefined)[] = new Array(64);
  private heap = new Int32Array(64);
  private free: number[] = [];
  private size = 0;
  private nextSlot = 0;
  private counter = 0;
  /** The earliest event's time (Infinity when empty), readable without a call: a double returned from a
   *  function that is not inlined is boxed, and the replay loop asks this for every row. */
  readonly head = new Float64Array([Infinity]);

  get length(): number {
    return this.size;
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): number {
    return this.size > 0 ? this.time[this.heap[0]!]! : Infinity;
  }

  peekClass(): number {
    return this.size > 0 ? this.cls[this.heap[0]!]! : 0;
  }

  push(time: number, cls: number, payload: T): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.nextSlot++;
      if (slot >= this.time.length) this.grow();
    }
    this.time[slot] = time;
    this.cls[slot] = cls;
    this.seq[slot] = this.counter++;
    this.payload[slot] = payload;
    let i = this.size++;
    if (time < this.head[0]!) this.head[0] = time;
    if (i >= this.heap.length) {
      const h = new Int32Array(this.heap.length * 2);
      h.set(this.heap);
      this.heap = h;
    }
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(slot, this.heap[parent]!)) break;
      this.heap[i] = this.heap[parent]!;
      i = parent;
    }
    this.heap[i] = slot;
  }

  pop(): T {
    const top = this.heap[0]!;
    const value = this.payload[top]!;
    this.payload[top] = undefined;
    this.free.push(top);
    const last = this.heap[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const c = r < this.size && this.less(this.heap[r]!, this.heap[l]!) ? r : l;
      if (!this.less(this.heap[c]!, last)) break;
      this.heap[i] = this.heap[c]!;
      i = c;
    }
    if (this.size > 0) this.heap[i] = last;
    this.head[0] = this.size > 0 ? this.time[this.heap[0]!]! : Infinity;
    return value;
  }

  private less(a: number, b: number): boolean {
    const ta = this.time[a]!;
    const tb = this.time[b]!;
    if (ta !== tb) return ta < tb;
    const ca = this.cls[a]!;
    const cb = this.cls[b]!;
    if (ca !== cb) return ca < cb;
    return this.seq[a]! < this.seq[b]!;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const t = new Float64Array(n);
    t.set(this.time);
    this.time = t;
    const c = new Uint8Array(n);
    c.set(this.cls);
    this.cls = c;
    const s = new Float64Array(n);
    s.set(this.seq);
    this.seq = s;
    this.payload.length = n;
  }
}
