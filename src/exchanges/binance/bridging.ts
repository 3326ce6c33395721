// Binance's rule for joining a REST depth snapshot (lastUpdateId) to the diff stream, in one place for the
// normalizer (which diffs a snapshot keeps and whether it bridges them) and the recorder's book-sync driver
// (whether the diffs received so far reach a snapshot it holds).
//   spot:    drop diffs with u <= lastUpdateId; the first kept diff must have U <= lastUpdateId+1 <= u;
//            afterwards each diff's U must be the previous u + 1.
//   futures: drop diffs with u < lastUpdateId; the first kept diff must have U <= lastUpdateId <= u (or
//            pu == lastUpdateId); afterwards each diff's pu must equal the previous u.
// The first kept diff may arrive after the snapshot (an importer reading the snapshot line first, or a snapshot
// with no diff yet to bridge): it is then judged by the bridging rule, not the chain rule.

export interface DiffIds {
  U: number;
  u: number;
  /** Futures: the previous diff's u; spot: U - 1. */
  pu: number;
}

/** Whether a diff ending at `u` is already contained in a snapshot of `lid` (it is dropped). */
export function containedInSnapshot(futures: boolean, lid: number, u: number): boolean {
  return futures ? u < lid : u <= lid;
}

/** Whether the first kept diff continues a snapshot of `lid`. */
export function bridgesSnapshot(futures: boolean, lid: number, d: DiffIds): boolean {
  return futures ? (d.U <= lid && lid <= d.u) || d.pu === lid : d.U <= lid + 1 && lid + 1 <= d.u;
}

/** Whether a diff continues the one that ended at `prevU`. */
export function continuesChain(futures: boolean, prevU: number, d: DiffIds): boolean {
  return futures ? d.pu === prevU : d.U === prevU + 1;
}

/** Why a diff does not continue the chain, for the problem log. */
export function chainBreak(futures: boolean, prevU: number, d: DiffIds): string {
  return futures ? `pu ${d.pu} != previous u ${prevU}` : `U ${d.U} != previous u ${prevU} + 1`;
}

/** Why the first diff after a snapshot does not bridge it, for the problem log. */
export function bridgeBreak(futures: boolean, lid: number, d: DiffIds): string {
  return futures
    ? `first diff after snapshot lastUpdateId ${lid} has U ${d.U}, u ${d.u}, pu ${d.pu}: neither U <= ${lid} <= u nor pu == ${lid}`
    : `first diff after snapshot lastUpdateId ${lid} has U ${d.U}, u ${d.u}: not U <= ${lid + 1} <= u`;
}
