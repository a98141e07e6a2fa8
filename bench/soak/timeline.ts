// What happened when, for attributing each miss: the CA's phases, the operations (start and end),
// the responder's answers for the certificate each server serves, and the misses themselves,
// merged into gaps (consecutive missed probes of one server).

export interface Gap {
  readonly kind: string;
  /** The first missed probe. */
  readonly from: number;
  /** The last missed probe. */
  to: number;
  /** The probe that found the server stapling again (null: the run ended first). */
  until: number | null;
  misses: number;
}

interface Span {
  readonly what: string;
  readonly from: number;
  to: number | null;
}

const clock = (t: number): string => new Date(t).toISOString().slice(11, 23);

export class Timeline {
  private readonly phases: Span[] = [];
  private readonly operations: Span[] = [];
  readonly gaps: Gap[] = [];
  /** The responder's answers for a certificate (by serial), in time order: [at, answer]. */
  private readonly answers = new Map<string, [number, string][]>();

  phase(what: string, at = Date.now()): void {
    const last = this.phases.at(-1);
    if (last && last.to === null) last.to = at;
    this.phases.push({ what, from: at, to: null });
  }

  /** An operation begins; call the returned function when it ends. */
  operation(what: string, at = Date.now()): (end?: number) => void {
    const span: Span = { what, from: at, to: null };
    this.operations.push(span);
    return (end = Date.now()) => void (span.to = end);
  }

  answer(serial: string, answer: string, at: number): void {
    let list = this.answers.get(serial);
    if (!list) this.answers.set(serial, (list = []));
    const last = list.at(-1);
    // Only changes (and the last of a run), to stay small over an hour.
    if (last && last[1] === answer && list.length > 1 && list.at(-2)![1] === answer) last[0] = at;
    else list.push([at, answer]);
  }

  /** One probe of `kind`: a miss (a valid response existed past the allowance, none stapled) extends or opens its gap; anything else closes it. */
  probe(kind: string, at: number, missed: boolean): void {
    const open = this.open.get(kind);
    if (!missed) {
      if (open) open.until = at;
      return void this.open.delete(kind);
    }
    if (open) {
      open.to = at;
      open.misses++;
      return;
    }
    const gap: Gap = { kind, from: at, to: at, until: null, misses: 1 };
    this.gaps.push(gap);
    this.open.set(kind, gap);
  }
  private readonly open = new Map<string, Gap>();

  /**
   * How long `face` ("apache", "nginx") was seen unstapled for one of its names while a valid
   * response existed, for the worst name: each gap from its first miss to the probe that found the
   * name stapled again (or its last miss, if the run ended first). Probes are a fraction of a
   * second apart: a lone miss counts that.
   */
  missedMs(face: string): number {
    const byName = new Map<string, number>();
    for (const g of this.gaps.filter((x) => x.kind.startsWith(`${face} `))) byName.set(g.kind, (byName.get(g.kind) ?? 0) + (g.until ?? g.to) - g.from);
    return Math.max(0, ...byName.values());
  }

  /** One line per gap: when, how many probes, the CA's phase, the operations near it, and the responder's answers for `serial` around it. */
  describe(serialOf: (kind: string) => string | null, limit = 30): string[] {
    const near = 15_000;
    const lines: string[] = [];
    for (const g of this.gaps.slice(0, limit)) {
      const phases = this.phases.filter((p) => p.from <= g.to && (p.to ?? Infinity) >= g.from - near).map((p) => `${p.what}@${clock(p.from)}`);
      const ops = this.operations
        .filter((o) => o.from <= g.to && (o.to ?? Infinity) >= g.from - near)
        .map((o) => `${o.what} ${clock(o.from)}-${o.to === null ? '…' : clock(o.to)}`);
      const serial = serialOf(g.kind);
      // The answer standing when the gap began (the last before it), then every change until its end.
      const all = serial ? (this.answers.get(serial) ?? []) : [];
      const before = all.filter(([at]) => at < g.from).at(-1);
      const answers = [...(before ? [before] : []), ...all.filter(([at]) => at >= g.from && at <= g.to + 2_000)].map(([at, a]) => `${a}@${clock(at)}`);
      lines.push(
        `gap: ${g.kind} ${clock(g.from)}-${clock(g.until ?? g.to)} (${(((g.until ?? g.to) - g.from) / 1000).toFixed(1)} s, ${g.misses} misses); CA ${phases.join(', ') || '-'}; ` +
          `operations ${ops.join(', ') || '-'}${serial ? `; responder for it ${answers.join(' ') || '-'}` : ''}`,
      );
    }
    if (this.gaps.length > limit) lines.push(`gap: ... and ${this.gaps.length - limit} more`);
    return lines;
  }
}
