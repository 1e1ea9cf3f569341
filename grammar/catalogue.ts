// The front end's error codes, each in one place: its title and what `smcirc explain` prints for it — what went
// wrong, a minimal example that triggers it, and the fix. (The runtime's codes are in cli/error-catalogue.ts.)

export interface Explanation {
  /** One line, shown after the code. */
  title: string;
  /** What went wrong, in a sentence or three. */
  what: string;
  /** A minimal spec snippet or command that triggers it, one string per line. */
  example: string[];
  /** How to fix it. */
  fix: string;
}

export const CATALOGUE = {
  // 1xxx: syntax
  SMC1001: {
    title: 'unexpected character',
    what: 'The lexer found a character that is not part of the .smcir language (such as `$`, `!` on its own, `&` or a backtick).',
    example: ['const d = 4 $ 2'],
    fix: 'Remove the character, or use the operator you meant (`and`, `or`, `not`, `!=`). Comments start with `#`.',
  },
  SMC1002: {
    title: 'unterminated string',
    what: 'A string literal opened with `"` is not closed on the same line; strings cannot span lines.',
    example: ['eval { dmfd_stats = "batch }'],
    fix: 'Add the closing `"` on the same line.',
  },
  SMC1003: {
    title: 'syntax error',
    what: 'The parser expected something else at this point: a missing bracket, a missing `=`, an operator with no operand, or a statement where a member belongs. The message says what was expected and what was found; after an error the parser recovers and reports further ones.',
    example: ['block A( {', '  forward(x) { return x }', '}'],
    fix: 'Add the missing token (here the `)` closing the parameter list) or remove the extra one; the caret points at where the parser gave up, which is often just after the real mistake.',
  },
  SMC1004: {
    title: 'missing token',
    what: 'Something the parser expected is missing (usually an operand or a name); its error recovery filled the gap with a placeholder, and a later stage reached it. It comes with the syntax error (SMC1003) reported at the same place.',
    example: ['const d = 4 *          # SMC1003: expected an expression; the gap is SMC1004 where it is used'],
    fix: 'Complete the expression (`const d = 4 * 2`): fix the syntax error next to it and this one goes away.',
  },
  SMC1005: {
    title: 'spec too large (a file, all files together, or too many imports)',
    what: 'A spec file is larger than 1 MiB, the files of one spec (the entry and its imports) hold more than 8 MiB together, more than 256 files are loaded, or imports nest more than 64 deep. smcirc checks the size before reading a file, so a huge or endless file never fills memory. The message gives the size and the limit.',
    example: ['import "generated-100MB.smcir"'],
    fix: 'Split a generated spec, or generate less: a spec describes a model, its data and weights live elsewhere. The limits are in compiler/check/limits.ts.',
  },
  SMC1006: {
    title: 'nesting too deep',
    what: 'An expression nests brackets or prefix operators more than 64 deep (`((((…))))`, `- - - x`, `not not …`, `a ** b ** …`, chained `if`), its syntax tree is more than 256 levels deep (a chain of hundreds of `+` or `.member`), or constants defined through constants nest more than 1000 evaluations deep. The parser and the checker recurse on nesting, so it is bounded; the caret points where the limit was passed.',
    example: ['const a = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))'],
    fix: 'Flatten the expression: name intermediate results with `const` or `let`, and sum long lists with a function (e.g. `sum`) instead of hundreds of `+`.',
  },
  SMC1007: {
    title: 'too many errors (the rest are counted, not listed)',
    what: 'smcirc lists the first 100 diagnostics of a spec and counts the others; usually they all follow from a few early mistakes (or the file is not a spec at all).',
    example: ['smcirc check notes.txt          # a text file, not a spec: one syntax error per line'],
    fix: 'Fix the first errors and check again; if the file is not a .smcir spec, pass the right file.',
  },
  // 2xxx: names, imports, declarations
  SMC2001: {
    title: 'unknown name',
    what: 'A name is used that is not declared: not a constant, dimension, input, block, layer or function, nor a `let`, block parameter or member in scope (or `.name` names no member of an instance). The hint suggests the closest declared name.',
    example: ['const hidden2 = 8', 'model M {', '  lin = Linear(4, hiden2)', '  ...'],
    fix: 'Correct the spelling, or declare the name (`const`, `let`, `input`, or a block member). `smcirc stdlib` lists the built-in layers and functions.',
  },
  SMC2002: {
    title: 'duplicate declaration',
    what: 'A name is declared twice where it must be unique: twice in one file, twice as a member of one block, twice as a `let` in one `forward`, or as two outputs. (A file that imports another may declare a name again: that replaces the imported one.)',
    example: ['const d = 4', 'const d = 8'],
    fix: 'Rename one of them, or delete the duplicate. To replace an imported declaration, put the new one in the importing file.',
  },
  SMC2003: {
    title: 'unknown layer or function',
    what: 'A call or a type names no layer, function, initialiser or parameter type that smcirc knows.',
    example: ['model M {', '  lin = Lineer(4, 1)', '  ...'],
    fix: 'Use a name from `smcirc stdlib` (layers such as Linear, LayerNorm, LSTM; functions such as relu, softmax; initialisers such as normal, zeros); block parameter types are int, float, str and bool.',
  },
  SMC2004: {
    title: 'wrong number of arguments',
    what: 'A layer, function, block or `forward` got more positional arguments than it takes, a keyword argument twice, or a positional argument after a keyword one.',
    example: ['block Head(width: int) { ... }', 'model M {', '  head = Head(8, 16)', '  ...'],
    fix: 'Pass the arguments listed in the message (`smcirc stdlib` shows the built-ins\' parameters); put positional arguments before keyword ones.',
  },
  SMC2005: {
    title: 'unknown keyword argument',
    what: 'A keyword argument names no parameter of the layer, function or block it is passed to (or is passed to a `forward`, which takes positional arguments only).',
    example: ['conv = Conv1d(d, 1, 3, pading = 1)'],
    fix: 'Use the parameter name from the hint or from `smcirc stdlib` (here `padding = 1`).',
  },
  SMC2006: {
    title: 'missing argument',
    what: 'A required parameter of a layer, function or block got no value.',
    example: ['lin = Linear(4)            # Linear needs out_features too'],
    fix: 'Pass the missing argument, positionally or as `name = value`.',
  },
  SMC2007: {
    title: 'import not found',
    what: 'An `import` names a file that cannot be read, or the spec file itself does not exist. Import paths are relative to the importing file, not to the working directory.',
    example: ['import "nowhere/base.smcir"'],
    fix: 'Correct the path relative to the importing file (e.g. `import "../smcir.smcir"` from specs/ablations/).',
  },
  SMC2008: {
    title: 'cyclic import',
    what: 'Files import each other in a cycle (a.smcir imports b.smcir, which imports a.smcir), so neither can come first.',
    example: ['# a.smcir', 'import "b.smcir"', '# b.smcir', 'import "a.smcir"'],
    fix: 'Remove one of the imports; move what both need into a third file that both import.',
  },
  SMC2009: {
    title: 'bad override',
    what: 'A `--set` option cannot be applied: it is not `name=value`, it names no constant or section, or its value is not a valid .smcir value. A setting or constant that takes a string accepts a bare word (`--set eval.dmfd_stats=batch`); lists may be written with commas (`--set eval.conditions=L,LV`).',
    example: ['smcirc check specs/smcir-tiny.smcir --set etta=0.4'],
    fix: 'Use a constant of the spec (`--set eta=0.4`) or `section.key` for a setting (`--set train.lr=1e-3`). A string with spaces or symbols is a quoted .smcir string inside shell quotes: `--set \'data.text="my key"\'`.',
  },
  SMC2010: {
    title: 'unknown setting',
    what: 'A settings section, subsection or key is not one smcirc knows: sections are `train`, `data` and `eval`; `train` has parameter groups (`group name { ... }`).',
    example: ['train {', '  learning_rate = 1e-3', '}'],
    fix: 'Use a key the hint lists (here `lr = 1e-3`); `data` also takes one key per input, naming its MMSA pickle key.',
  },
  SMC2011: {
    title: 'missing model',
    what: 'The spec (with its imports) declares no `model`, or the model has no `forward`, so there is nothing to compile.',
    example: ['dim B', 'input x: [B, 4]', '# no `model` block'],
    fix: 'Declare `model Name { members...  forward(inputs...) { ... output pred = ... } }`, or import a spec that has one.',
  },
  SMC2012: {
    title: 'forward parameter is not an input',
    what: 'The model\'s `forward` takes the spec\'s inputs by name; one of its parameters names no declared `input`.',
    example: ['input text: [B, 8, 4]', 'model M {', '  forward(txt) { ... }', '}'],
    fix: 'Rename the parameter to an input (`forward(text)`), or declare the input with `input name: [shape]`.',
  },
  SMC2013: {
    title: 'unused binding',
    what: 'Warning: a `let` name or a block\'s forward argument is never used, or a statement comes after `return` and never runs. Often a sign of a typo or a forgotten wire.',
    example: ['forward(x) {', '  let h = relu(x)', '  return x', '}'],
    fix: 'Use it, delete it, or name it with a leading `_` (`_h`) to keep it deliberately.',
  },
  SMC2014: {
    title: 'unused parameter',
    what: 'Warning: a member (a layer or block instance) is never called in `forward`, so its parameters are allocated and saved but never trained.',
    example: ['model M {', '  lin = Linear(4, 1)', '  extra = Linear(4, 4)', '  forward(x) { output pred = lin(x)[:, 0] }', '}'],
    fix: 'Call the member in `forward`, or delete it.',
  },
  SMC2015: {
    title: 'recursive block',
    what: 'A block instantiates itself, directly or through other blocks, or blocks call each other more than 64 levels deep; the model would be infinite.',
    example: ['block A() {', '  inner = A()', '  forward(x) { return inner(x) }', '}'],
    fix: 'Break the cycle: a block may contain other blocks, but never itself.',
  },
  SMC2016: {
    title: 'not callable',
    what: 'Something is called that cannot be: a layer or block called inside `forward` instead of being declared as a member, a function used as a member, a block without `forward`, or a value that is not a function.',
    example: ['model M {', '  forward(x) { output pred = Linear(4, 1)(x)[:, 0] }', '}'],
    fix: 'Declare the layer as a member above `forward` (`lin = Linear(4, 1)`) and call the member (`lin(x)`); give a called block a `forward`.',
  },
  SMC2017: {
    title: 'missing setting',
    what: 'A required setting is absent: `train` needs a `loss` to train or check with a loss, and a parameter group needs `params`.',
    example: ['train {', '  lr = 1e-3', '}'],
    fix: 'Add it: `loss = l1(pred, label)` in `train { ... }`; `group name { params = ["head.*"] }`.',
  },
  SMC2018: {
    title: 'unknown output',
    what: '`output` is used outside the model\'s `forward` (in a block); only the model declares outputs.',
    example: ['block Head() {', '  forward(x) { output y = x }', '}'],
    fix: 'Return the value from the block (`return x`) and declare the output in the model (`output pred = head(x)`).',
  },
  SMC2019: {
    title: 'parameter group matches no parameter',
    what: 'Warning: the glob patterns of a parameter group match no parameter name, so its learning rate or weight decay changes nothing.',
    example: ['train {', '  group head_bias { params = ["haed.*.bias"], weight_decay = 0 }', '}'],
    fix: 'Compare the patterns with the parameter names `smcirc inspect --graph` lists; `*` matches any run of characters, dots included.',
  },
  SMC2020: {
    title: 'constant overrides nothing',
    what: 'A file that imports others declares a constant that replaces no imported constant and that nothing uses. In an importing file a `const` is almost always meant to override an imported one (that is how an ablation is written), so this is usually a misspelt name: the imported constant silently keeps its value.',
    example: ['import "../smcir.smcir"', 'const use_mse = false        # smcir.smcir declares use_msse'],
    fix: 'Spell the name exactly as the imported file does (the hint suggests the closest one). If the constant is new and meant, use it somewhere, or start its name with `_`.',
  },
  SMC2021: {
    title: 'import refused: outside the project, or not a .smcir file',
    what: 'An import must name a `.smcir` file inside the project: the folder tree of the nearest folder above the entry spec that holds `.git`, `package.json`, `run.json` or `manifest.json` (a repository, a run folder, a bundle; without one, the entry spec\'s own folder), or smcirc\'s own `specs/` folder. Anything else is refused before it is opened, so a spec cannot make smcirc read (and echo in diagnostics) a system file such as /etc/passwd.',
    example: ['import "/etc/passwd"', 'import "../../../home/me/.ssh/id_rsa"'],
    fix: 'Move or copy the imported spec into the project (next to the entry spec), and import it by a relative path. To allow imports from anywhere, set SMCIRC_ALLOW_IMPORT_OUTSIDE=1 in the environment.',
  },
  SMC2022: {
    title: 'not a regular file (a folder, device, FIFO, socket or /proc file)',
    what: 'A spec or an import names something that is not a regular file: a folder, a device such as /dev/zero, a named pipe, a socket, or a file under /proc or /sys whose size is unknown. Reading it could block forever or never end, so smcirc checks with `stat` and refuses it before opening it.',
    example: ['import "/dev/zero"', 'smcirc check /proc/self/status'],
    fix: 'Name the .smcir file itself (a regular file); to use generated text, write it to a file first.',
  },
  // 3xxx: types and shapes
  SMC3001: {
    title: 'shape mismatch',
    what: 'Tensor shapes do not fit together: operands that cannot broadcast, a matmul whose inner dimensions differ, a layer given an input of the wrong width, a loss whose prediction and target differ, or a loss that is not a scalar. The hint names the block path where it happened.',
    example: ['input x: [B, 3, 4]', 'model M {', '  a = Linear(4, 2)', '  b = Linear(4, 3)', '  forward(x) { output pred = (a(x) + b(x))[:, 0, 0] }', '}'],
    fix: 'Make the shapes agree: change a layer\'s width, index or reshape a tensor, or use `smcirc check` on a smaller piece to see each shape.',
  },
  SMC3002: {
    title: 'type mismatch',
    what: 'A value has the wrong kind for where it is used: a string where a number is needed, a tensor in a compile-time `if`, a list where a tensor is expected, a constant that is not a compile-time value, and so on.',
    example: ['const scale = "2"', 'model M { forward(x) { output pred = scale * x[:, 0] } }'],
    fix: 'Pass a value of the kind the message asks for; for per-sample choices between tensors use `where(mask, a, b)` instead of `if`.',
  },
  SMC3003: {
    title: 'not an integer dimension',
    what: 'A dimension or count (a shape entry, a layer width, a number of heads) is not a positive whole number, e.g. the result of `/`.',
    example: ['const d = 6', 'input x: [B, d / 4]'],
    fix: 'Use whole numbers; `//` divides with an integer result (`d // 4`).',
  },
  SMC3004: {
    title: 'bad value',
    what: 'A value is of the right kind but not allowed: a setting outside its choices or range (`dmfd_stats = "global"`), an unknown test condition, a constant defined in terms of itself, or more than one dimension left unbound.',
    example: ['eval { dmfd_stats = "global" }'],
    fix: 'Use one of the values the message lists (`"batch"` or `"population"`); on the command line a bare word works: `--set eval.dmfd_stats=batch`.',
  },
  SMC3005: {
    title: 'division by zero',
    what: 'A compile-time expression divides by zero (`/`, `//` or `%`).',
    example: ['const k = 0', 'const w = 8 // k'],
    fix: 'Change the divisor, or guard it with `if k == 0 then ... else ...`.',
  },
  SMC3006: {
    title: 'index out of range',
    what: 'An index, slice or axis lies outside the tensor or list it is applied to, or there are more indices than axes.',
    example: ['input x: [B, 3, 4]', '... x[:, 5] ...'],
    fix: 'Index within the axis length shown in the message; negative axes count from the end.',
  },
  SMC3007: {
    title: 'tuple arity mismatch',
    what: '`let (a, b) = ...` unpacks a value that is not a tuple or list, or has a different number of items than names.',
    example: ['let (h, m, extra) = dmfd(text, vision, audio)    # returns two values'],
    fix: 'Use as many names as the value has items (name unwanted ones `_`-something).',
  },
  SMC3008: {
    title: 'override changes the type of a constant',
    what: 'An override (a `const` in an importing file, or `--set`) gives a constant another kind of value than the declaration it replaces: a string for a number, a fraction for a whole number, a number for true/false. It is reported at the override, with where the original is declared, instead of at some use deep in the imported file. A whole number may replace a number (`eta = 1` for `eta = 0.8`).',
    example: ['import "../smcir.smcir"          # declares const eta = 0.6', 'const eta = "0.4"'],
    fix: 'Write a value of the original\'s kind (`const eta = 0.4`, `--set eta=0.4`). If a whole-number constant should accept fractions, declare it with a decimal point in its own file (`const gamma = 10.0`).',
  },
  SMC3009: {
    title: 'a tensor or a value too large',
    what: 'A tensor would have more than 2^31 (2,147,483,648) elements, a compile-time constant matrix (adaptive pooling, interpolation, a causal mask) more than 2^26, a dimension is not a safe whole number, or a compile-time string exceeds 1 Mi characters. The check happens before anything is allocated; the message names the tensor (an input, a parameter, or the operation and the block that computes it), its shape and the limit.',
    example: ['const T_L = 100000000', 'const d_L = 100000000          # input text: [B, T_L, d_L] has 1.6e17 elements'],
    fix: 'Use the sizes you meant (a typo with extra zeros is the usual cause; `--set` values replace the spec\'s). The limits are in compiler/check/limits.ts.',
  },
  SMC3010: {
    title: 'the model is too large (parameters, activations, graph nodes or instances)',
    what: 'The whole model exceeds a bound: more than 16 GiB of parameters in f32, more than 256 GiB of tensors in the checked graph, more than 500,000 graph nodes, or more than 100,000 block and layer instances (nested `repeat`s multiply). The message gives the total, the limit, and where the limit was passed.',
    example: ['model M {', '  layers = repeat(1000, Stack())          # Stack itself holds repeat(1000, ...)', '  ...'],
    fix: 'Lower the widths, depths or repeat counts (`--set`), or the batch size for activations (`--set train.batch_size=...`).',
  },
} as const satisfies Record<string, Explanation>;
