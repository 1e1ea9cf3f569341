// Reserved names shared by the compiler, the runtime and bundles: the graph inputs the runtime feeds, the outputs
// it reads, the optimizer state, the DMFD statistics, and the data modalities. Nothing else spells them.

/** The dropout seed of a train step (a scalar input). */
export const SEED_INPUT = '__seed';
/** The train step's loss and global gradient norm (scalar outputs). */
export const LOSS_OUTPUT = 'loss';
export const GRAD_NORM_OUTPUT = 'grad_norm';
/** The train step's output holding a state's value after the step. */
export const newStateOutput = (state: string): string => `new:${state}`;

/** A population statistic's scalar input, and the per-sample score output it is computed from. */
export const statInput = (k: number): string => `__stat${k}`;
export const scoreOutput = (k: number): string => `__score${k}`;
export const isScoreOutput = (name: string): boolean => name.startsWith('__score');
/** Inputs and outputs the runtime feeds or reads itself, never the data or the user. */
export const isInternalName = (name: string): boolean => name.startsWith('__');

/** Optimizer state: the global step count, and per parameter Adam's m, v and step count (torch keeps one each). */
export const STEP_STATE = 'adam.step';
export const adamM = (param: string): string => `adam.m.${param}`;
export const adamV = (param: string): string => `adam.v.${param}`;
export const adamT = (param: string): string => `adam.t.${param}`;

/** The modalities smcirc feeds from the data (MMSA layout): spec inputs with these names; the one other input
 *  that the data section maps is the target. */
export const MODALITIES = ['text', 'vision', 'audio'] as const;
export type Modality = (typeof MODALITIES)[number];
export const isModality = (name: string): name is Modality => (MODALITIES as readonly string[]).includes(name);
