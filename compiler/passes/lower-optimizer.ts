// Lowering of the `adam_update` routine: its packed result becomes the optimizer arena, updated in place (the
// parameters, m, v and step counts it reads are placed inside it), the gradients are placed in a gradient arena,
// and three kernels run: per-block sums of squares, the one-invocation step kernel, Adam over the arena.
import { numel } from '../ir/graph.js';
import { adamLayout, numberList } from '../ir/routines/adam-layout.js';
import type { RoutineLowering } from '../ir/routines/registry.js';
import { KernelError } from '../kernels/errors.js';
import { kernelWrites, type Kernel } from '../kernels/ir.js';
import type { ProgramTensor } from '../kernels/plan.js';
import { coefWords, optimizerLayout } from '../kernels/wgsl-optimizer.js';
import { isContiguous } from './views.js';

/** The `adam_update` routine's lowering (its RoutineDef's `lower`). */
export function lowerAdamUpdate(cx: RoutineLowering): void {
  const n = cx.node;
  if (n.attrs.op !== 'routine') return;
  const { params } = n.attrs;
  const P = Number(params.params);
  const ins = n.inputs;
  const nodes = cx.graph.nodes;
  const lengths = ins.slice(0, P).map((i) => numel(nodes[i]!.shape));
  const lay = adamLayout(lengths);
  const arena = cx.tensorName(n.id);
  const byName = new Map(cx.tensors.map((t) => [t.name, t]));
  byName.get(arena)!.role = 'state';
  const label = cx.label;

  // parameters, m, v and step counts live inside the arena: the update writes them in place
  const place = (id: number, offset: number): void => {
    const src = nodes[id]!;
    const t = byName.get(cx.tensorName(id));
    if ((src.attrs.op !== 'param' && src.attrs.op !== 'input') || !t || t.alias) {
      throw new KernelError('SMC4103', `adam_update (node ${n.id}): state input ${id} is not a parameter or input of its own`);
    }
    t.alias = { of: arena, offset };
  };
  lay.offsets.forEach((at, i) => {
    place(ins[P + i]!, at);
    place(ins[2 * P + i]!, lay.region + at);
    place(ins[3 * P + i]!, 2 * lay.region + at);
    place(ins[4 * P + i]!, 3 * lay.region + i);
  });

  // gradients: their tensors are placed in the gradient arena where they can be, copied into it otherwise; a
  // tensor that a copy reads stays outside (one kernel must not read and write the arena's buffer)
  const grads = cx.addTensor({ name: `${arena}.grads`, size: lay.region, role: 'grad' });
  const direct = (i: number): ProgramTensor | undefined => {
    const id = ins[i]!;
    const v = cx.views[id]!;
    const t = byName.get(v.tensor);
    const own = t && !t.alias && !t.init && (t.role === 'temp' || t.role === 'output') && t.size === lengths[i];
    return own && v.offset === 0 && isContiguous(v, nodes[id]!.shape) ? t : undefined;
  };
  // (LSTM b_ih and b_hh share one gradient: neither is placed)
  const readers = new Map<string, number>();
  for (const id of ins.slice(0, P)) readers.set(cx.views[id]!.tensor, (readers.get(cx.views[id]!.tensor) ?? 0) + 1);
  const placed = lengths.map((_, i) => direct(i)).map((t) => (t && readers.get(t.name) === 1 ? t : undefined));
  lay.offsets.forEach((at, i) => {
    const id = ins[i]!;
    const v = cx.views[id]!;
    const t = placed[i];
    // role 'grad': pinned, so merging never drops the write (the update reads the arena, not this name)
    if (t) {
      t.alias = { of: grads, offset: at };
      if (t.role === 'temp') t.role = 'grad';
      return;
    }
    // a tensor of its own inside the arena: merged copies write disjoint ranges, never one binding twice
    const slot = cx.addTensor({ name: `${grads}.${i}`, size: lengths[i]!, role: 'grad', alias: { of: grads, offset: at } });
    cx.emit({
      kind: 'expr', name: label(`adam_update.grad${i}`), shape: [...nodes[id]!.shape], inputs: [cx.decl(v.tensor)],
      outputs: [{ name: slot, size: lengths[i]!, expr: { k: 'load', input: 0, map: { offset: v.offset, strides: v.strides } } }],
    });
  });

  const lrs = numberList(params, 'lrs');
  const wds = numberList(params, 'wds');
  const groups: { lr: number; weightDecay: number }[] = [];
  const groupOf = lrs.map((lr, i) => {
    let g = groups.findIndex((x) => x.lr === lr && x.weightDecay === wds[i]);
    if (g < 0) g = groups.push({ lr, weightDecay: wds[i]! }) - 1;
    return g;
  });
  const layout = optimizerLayout(lay.region, lay.offsets.map((start, i) => ({ start, length: lengths[i]!, group: groupOf[i]! })), groups);
  const partials = cx.addTensor({ name: `${arena}.partials`, size: layout.blocks.length, role: 'temp' });
  const coefs = cx.addTensor({ name: `${arena}.coefs`, size: coefWords(layout), role: 'temp' });
  const [beta1, beta2] = [Number(params.beta1), Number(params.beta2)];
  cx.emit({ kind: 'grad-norm', name: label('adam_update.grad_norm'), layout, inputs: [cx.decl(grads)], outputs: [cx.decl(partials)] });
  cx.emit({
    kind: 'adam-step', name: label('adam_update.step'), layout, maxNorm: Number(params.maxNorm ?? 0), beta1, beta2,
    skipUnused: params.skipUnused !== false, inputs: [cx.decl(partials)], outputs: [cx.decl(arena), cx.decl(coefs)],
  });
  cx.emit({
    kind: 'adam', name: label('adam_update'), layout, beta1, beta2, eps: Number(params.eps),
    inputs: [cx.decl(grads), cx.decl(coefs)], outputs: [cx.decl(arena)],
  }, [n.id]);
}

/**
 * WebGPU rejects a dispatch that binds one buffer both read-only and writable: no kernel may read a tensor placed
 * in an arena and write another tensor of the same arena (an in-place update binds the arena once, read_write).
 * And once Adam has updated an arena in place, no kernel may read the old state placed in it.
 */
export function checkArenaHazards(kernels: Kernel[], tensors: ProgramTensor[]): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const arenaOf = (name: string): string => {
    let t = byName.get(name);
    while (t?.alias) t = byName.get(t.alias.of);
    return t?.name ?? name;
  };
  const oldState = new Set(tensors.filter((t) => t.alias && (t.role === 'param' || t.role === 'input')).map((t) => t.name));
  const updated = new Set<string>();
  for (const k of kernels) {
    const written = new Set(kernelWrites(k).map((w) => w.name));
    const wrote = new Set([...written].map(arenaOf));
    const bad = k.inputs.find((r) => !written.has(r.name) && wrote.has(arenaOf(r.name)));
    if (bad) throw new KernelError('SMC4104', `reads ${bad.name} and writes into the same arena, ${arenaOf(bad.name)}`, k.name);
    const stale = k.inputs.find((r) => oldState.has(r.name) && updated.has(arenaOf(r.name)));
    if (stale) throw new KernelError('SMC4104', `reads ${stale.name} after the optimizer updated it in place`, k.name);
    if (k.kind === 'adam') updated.add(arenaOf(k.outputs[0].name));
  }
}
