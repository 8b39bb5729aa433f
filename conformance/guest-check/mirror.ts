/**
 * What the checker knows of a domain's memory: the bytes the trace showed (guest writes,
 * the memory calls read, what they changed), page by page, with which bytes are known.
 */
const PAGE = 4096;

interface Page {
  data: Uint8Array;
  known: Uint8Array;
}

export class Mirror {
  private readonly pages = new Map<number, Page>();

  /** Records bytes at a guest address. */
  set(addr: bigint, bytes: Uint8Array): void {
    if (addr < 0n || addr + BigInt(bytes.length) > BigInt(Number.MAX_SAFE_INTEGER)) return;
    let a = Number(addr);
    let done = 0;
    while (done < bytes.length) {
      const g = Math.floor(a / PAGE);
      const off = a - g * PAGE;
      const n = Math.min(PAGE - off, bytes.length - done);
      let p = this.pages.get(g);
      if (!p) {
        p = { data: new Uint8Array(PAGE), known: new Uint8Array(PAGE) };
        this.pages.set(g, p);
      }
      p.data.set(bytes.subarray(done, done + n), off);
      p.known.fill(1, off, off + n);
      done += n;
      a += n;
    }
  }

  /** The bytes at a guest address, or undefined when any of them is unknown. */
  get(addr: bigint, length: number): Uint8Array | undefined {
    if (addr < 0n || length < 0 || addr + BigInt(length) > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const out = new Uint8Array(length);
    let a = Number(addr);
    let done = 0;
    while (done < length) {
      const g = Math.floor(a / PAGE);
      const off = a - g * PAGE;
      const n = Math.min(PAGE - off, length - done);
      const p = this.pages.get(g);
      if (!p) return undefined;
      for (let k = off; k < off + n; k++) if (p.known[k] === 0) return undefined;
      out.set(p.data.subarray(off, off + n), done);
      done += n;
      a += n;
    }
    return out;
  }

  /** The bytes at a guest address, each from this mirror where it knows it, else from `under`; undefined when neither knows one. */
  over(under: Mirror, addr: bigint, length: number): Uint8Array | undefined {
    if (this.pages.size === 0) return under.get(addr, length);
    if (addr < 0n || length < 0 || addr + BigInt(length) > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const out = new Uint8Array(length);
    for (let k = 0; k < length; k++) {
      const a = Number(addr) + k;
      const g = Math.floor(a / PAGE);
      const off = a - g * PAGE;
      const p = this.pages.get(g);
      if (p && p.known[off] === 1) out[k] = p.data[off] as number;
      else {
        const b = under.get(BigInt(a), 1);
        if (!b) return undefined;
        out[k] = b[0] as number;
      }
    }
    return out;
  }
}
