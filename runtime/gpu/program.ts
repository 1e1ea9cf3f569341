// One GPU program of a model (the train step or the evaluation forward) as the manifest describes it: the
// executor over its dispatch plan, addressed by the names the runtime uses — feeds, outputs, state — never by
// graph nodes. Nothing here knows the compiler: a bundle runs from manifest.json and its .wgsl files alone.
import type { ProgramAbi } from '../abi/model.js';
import type { GpuContext } from './device.js';
import { Executor, type ExecutorOptions } from './executor.js';
import { GpuError } from './errors.js';

export class GpuProgram {
  private constructor(
    readonly abi: ProgramAbi,
    readonly executor: Executor,
  ) {}

  /** Creates buffers, pipelines (asynchronously) and bind groups once; uploads the constant tensors. */
  static async load(ctx: GpuContext, abi: ProgramAbi, opts: ExecutorOptions = {}): Promise<GpuProgram> {
    return new GpuProgram(abi, await Executor.load(ctx, abi.plan, opts));
  }

  get plan() {
    return this.abi.plan;
  }

  /** Does any kernel read this feed (an input, a parameter, a piece of optimizer state)? */
  reads(name: string): boolean {
    return name in this.abi.feeds;
  }

  /** Uploads a feed by name; a name no kernel reads is an error (callers ask `reads` for optional ones). */
  feed(name: string, data: Float32Array): void {
    const t = this.abi.feeds[name];
    if (t === undefined) throw new GpuError('SMC4020', `the program reads no input, parameter or state named ${name}`);
    this.executor.write(t, data);
  }

  /** Feeds every value whose name the program reads; ignores the rest. */
  feedAll(values: ReadonlyMap<string, Float32Array>): void {
    for (const [k, v] of values) if (this.reads(k)) this.feed(k, v);
  }

  private outputTensor(name: string): string {
    const t = this.abi.outputs[name];
    if (t === undefined) throw new GpuError('SMC4020', `the program has no output named ${name}`);
    return t;
  }

  /** One step: every dispatch (and the state copies) in one submit; reads back the named outputs. */
  async run(outputs: string[] = []): Promise<Map<string, Float32Array>> {
    const tensors = outputs.map((o) => this.outputTensor(o));
    const got = await this.executor.step(tensors);
    return new Map(outputs.map((o, i) => [o, got.get(tensors[i]!)!]));
  }

  /** The current training state (parameters, Adam moments and step counts) by state name. */
  async readState(): Promise<Map<string, Float32Array>> {
    const names = Object.keys(this.abi.state);
    const got = await this.executor.read(names.map((n) => this.abi.state[n]!));
    return new Map(names.map((n) => [n, got.get(this.abi.state[n]!)!]));
  }

  /** Values of materialised graph nodes after the last step (validate mode, tests). */
  async readNodes(ids: number[]): Promise<Map<number, Float32Array>> {
    const ts = ids.map((id) => {
      const t = this.abi.nodes[String(id)];
      if (!t) throw new GpuError('SMC4020', `node ${id} has no buffer (pass it in keep)`);
      return t;
    });
    const got = await this.executor.read(ts);
    return new Map(ids.map((id, i) => [id, got.get(ts[i]!)!]));
  }

  destroy(): void {
    this.executor.destroy();
  }
}
