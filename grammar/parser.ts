// The Chevrotain CstParser of .smcir: syntax only, with error recovery so one run reports every syntax error.

import { CstParser, type CstNode } from 'chevrotain';
import * as T from './lexer.js';

export class SmcirParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.decl));
  });

  decl = this.RULE('decl', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.dimDecl) },
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.settingsDecl) },
    ]);
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Const);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  dimDecl = this.RULE('dimDecl', () => {
    this.CONSUME(T.Dim);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  inputDecl = this.RULE('inputDecl', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Input) }, { ALT: () => this.CONSUME(T.Target) }]);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr);
  });

  blockDecl = this.RULE('blockDecl', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Block);
          this.CONSUME(T.Identifier);
          this.CONSUME(T.LParen);
          this.OPTION(() => {
            this.SUBRULE(this.blockParam);
            this.MANY(() => {
              this.CONSUME(T.Comma);
              this.SUBRULE2(this.blockParam);
            });
          });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Model);
          this.CONSUME2(T.Identifier);
        },
      },
    ]);
    this.CONSUME(T.LBrace);
    this.MANY2(() => this.SUBRULE(this.member));
    this.OPTION2(() => this.SUBRULE(this.forwardDef));
    this.CONSUME(T.RBrace);
  });

  blockParam = this.RULE('blockParam', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.CONSUME2(T.Identifier, { LABEL: 'type' });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  member = this.RULE('member', () => {
    this.OPTION(() => this.CONSUME(T.Frozen));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Param);
          this.CONSUME(T.Identifier);
          this.CONSUME(T.Colon);
          this.SUBRULE(this.expr, { LABEL: 'shape' });
          this.OPTION2(() => {
            this.CONSUME(T.Init);
            this.SUBRULE2(this.expr, { LABEL: 'init' });
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.Identifier);
          this.CONSUME(T.Equals);
          this.SUBRULE3(this.expr, { LABEL: 'value' });
        },
      },
    ]);
    this.OPTION3(() => this.CONSUME(T.Semicolon));
  });

  forwardDef = this.RULE('forwardDef', () => {
    this.CONSUME(T.Forward);
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.identList));
    this.CONSUME(T.RParen);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.stmt));
    this.CONSUME(T.RBrace);
  });

  identList = this.RULE('identList', () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier);
    });
  });

  stmt = this.RULE('stmt', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Let);
          this.OR2([
            { ALT: () => this.CONSUME(T.Identifier) },
            {
              ALT: () => {
                this.CONSUME(T.LParen);
                this.SUBRULE(this.identList);
                this.CONSUME(T.RParen);
              },
            },
          ]);
          this.CONSUME(T.Equals);
          this.SUBRULE(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Output);
          this.CONSUME2(T.Identifier);
          this.CONSUME2(T.Equals);
          this.SUBRULE2(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Return);
          this.SUBRULE3(this.expr);
        },
      },
    ]);
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  settingsDecl = this.RULE('settingsDecl', () => {
    this.CONSUME(T.Identifier, { LABEL: 'section' });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.settingsItem));
    this.CONSUME(T.RBrace);
  });

  settingsItem = this.RULE('settingsItem', () => {
    this.OR([
      {
        GATE: () => this.LA(2).tokenType === T.Equals,
        ALT: () => this.SUBRULE(this.setting),
      },
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'groupSection' });
          this.CONSUME2(T.Identifier, { LABEL: 'groupName' });
          this.CONSUME(T.LBrace);
          this.MANY(() => this.SUBRULE2(this.setting));
          this.CONSUME(T.RBrace);
        },
      },
    ]);
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  setting = this.RULE('setting', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
    this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(T.Semicolon) }, { ALT: () => this.CONSUME(T.Comma) }]));
  });

  // ---- expressions, lowest precedence first ----
  expr = this.RULE('expr', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.ifExpr) }, { ALT: () => this.SUBRULE(this.orExpr) }]);
  });

  ifExpr = this.RULE('ifExpr', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expr, { LABEL: 'cond' });
    this.CONSUME(T.Then);
    this.SUBRULE2(this.expr, { LABEL: 'then' });
    this.CONSUME(T.Else);
    this.SUBRULE3(this.expr, { LABEL: 'else' });
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.Or, { LABEL: 'ops' });
      this.SUBRULE2(this.andExpr, { LABEL: 'operands' });
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.And, { LABEL: 'ops' });
      this.SUBRULE2(this.notExpr, { LABEL: 'operands' });
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.cmpExpr) },
    ]);
  });

  cmpExpr = this.RULE('cmpExpr', () => {
    this.SUBRULE(this.addExpr, { LABEL: 'operands' });
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.LessEq, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.GreaterEq, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.EqEq, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.NotEq, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Less, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Greater, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.addExpr, { LABEL: 'operands' });
    });
  });

  addExpr = this.RULE('addExpr', () => {
    this.SUBRULE(this.mulExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Plus, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.mulExpr, { LABEL: 'operands' });
    });
  });

  mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.SlashSlash, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Percent, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.At, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.unaryExpr, { LABEL: 'operands' });
    });
  });

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.powExpr) },
    ]);
  });

  powExpr = this.RULE('powExpr', () => {
    this.SUBRULE(this.postfixExpr);
    this.OPTION(() => {
      this.CONSUME(T.StarStar);
      this.SUBRULE(this.unaryExpr);
    });
  });

  postfixExpr = this.RULE('postfixExpr', () => {
    this.SUBRULE(this.atom);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.callSuffix) },
        { ALT: () => this.SUBRULE(this.memberSuffix) },
        { ALT: () => this.SUBRULE(this.indexSuffix) },
      ]);
    });
  });

  callSuffix = this.RULE('callSuffix', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.arg);
      });
    });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.expr);
  });

  memberSuffix = this.RULE('memberSuffix', () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Identifier);
  });

  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.indexItem);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.indexItem);
    });
    this.CONSUME(T.RBracket);
  });

  indexItem = this.RULE('indexItem', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Colon);
          this.OPTION(() => this.SUBRULE(this.expr, { LABEL: 'end' }));
        },
      },
      {
        ALT: () => {
          this.SUBRULE2(this.expr, { LABEL: 'start' });
          this.OPTION2(() => {
            this.CONSUME2(T.Colon);
            this.OPTION3(() => this.SUBRULE3(this.expr, { LABEL: 'end' }));
          });
        },
      },
    ]);
  });

  atom = this.RULE('atom', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expr);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE2(this.expr);
          });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.OPTION(() => {
            this.SUBRULE3(this.expr);
            this.MANY2(() => {
              this.CONSUME2(T.Comma);
              this.SUBRULE4(this.expr);
            });
          });
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });
}

export type { CstNode };

/** One shared instance: Chevrotain parsers are reusable by resetting `input`. */
export const smcirParser = new SmcirParser();
