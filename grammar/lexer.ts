// Tokens of the .smcir language and the Chevrotain lexer.

import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const kw = (word: string): TokenType =>
  createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(`${word}\\b`), longer_alt: Identifier, label: `\`${word}\`` });

export const Import = kw('import');
export const Const = kw('const');
export const Dim = kw('dim');
export const Input = kw('input');
export const Target = kw('target');
export const Block = kw('block');
export const Model = kw('model');
export const Forward = kw('forward');
export const Let = kw('let');
export const Output = kw('output');
export const Return = kw('return');
export const Param = kw('param');
export const Frozen = kw('frozen');
export const Init = kw('init');
export const If = kw('if');
export const Then = kw('then');
export const Else = kw('else');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');
export const True = kw('true');
export const False = kw('false');

export const NumberLit = createToken({ name: 'NumberLit', pattern: /(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/, label: 'a number' });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\.)*/ });

const punct = (name: string, pattern: string): TokenType =>
  createToken({ name, pattern: new RegExp(pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), label: `\`${pattern}\`` });

export const StarStar = punct('StarStar', '**');
export const SlashSlash = punct('SlashSlash', '//');
export const LessEq = punct('LessEq', '<=');
export const GreaterEq = punct('GreaterEq', '>=');
export const EqEq = punct('EqEq', '==');
export const NotEq = punct('NotEq', '!=');
export const Less = punct('Less', '<');
export const Greater = punct('Greater', '>');
export const Equals = punct('Equals', '=');
export const Plus = punct('Plus', '+');
export const Minus = punct('Minus', '-');
export const Star = punct('Star', '*');
export const Slash = punct('Slash', '/');
export const Percent = punct('Percent', '%');
export const At = punct('At', '@');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
export const LBrace = punct('LBrace', '{');
export const RBrace = punct('RBrace', '}');
export const Comma = punct('Comma', ',');
export const Colon = punct('Colon', ':');
export const Dot = punct('Dot', '.');
export const Semicolon = punct('Semicolon', ';');

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, line_breaks: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const KEYWORDS = [
  Import, Const, Dim, Input, Target, Block, Model, Forward, Let, Output, Return, Param, Frozen, Init,
  If, Then, Else, And, Or, Not, True, False,
];

export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  ...KEYWORDS,
  NumberLit, StringLit, UnterminatedString, Identifier,
  StarStar, SlashSlash, LessEq, GreaterEq, EqEq, NotEq, Less, Greater, Equals,
  Plus, Minus, Star, Slash, Percent, At,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Colon, Dot, Semicolon,
];

export const smcirLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
