/**
 * A small evaluator for Access Monitoring Rule conditions, covering the part of Teleport's
 * "typical" predicate language that notification rules use in practice:
 *
 * - literals: `"string"`, `true`, `false`; `&&`, `||`, `!`, `==`, `!=`, parentheses;
 * - variables: `access_request.spec.{roles,suggested_reviewers,system_annotations,user,
 *   request_reason,creation_time,expiry}` and `user.traits`, with `map["key"]` indexing;
 * - functions: `set`, `union`, `contains_any`, `contains_all`, `is_empty`, `ifelse`,
 *   `strings.upper`, `strings.lower`, `strings.replaceall`, `strings.split`, `email.local`,
 *   `time.RFC3339`, `before`, `after`, `between`;
 * - methods: `.contains(x)`, `.contains_any(s)`, `.contains_all(s)`, `.isempty()`, `.add(…)`, `.remove(…)`.
 *
 * Anything else is a parse error; the caller treats it as "no match" (as Teleport does).
 */

export type Value = string | boolean | number | Date | string[] | Record<string, string[]>;

/** Variables an expression can read. */
export interface ExpressionEnv {
  [path: string]: Value;
}

export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

type Token = { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string } | { t: 'num'; v: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && c === '"' && j + 1 < src.length) {
          const n = src[++j]!;
          v += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        } else v += src[j];
        j++;
      }
      if (j >= src.length) throw new ExpressionError('unterminated string literal');
      out.push({ t: 'str', v });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['&&', '||', '==', '!='].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if ('!().,[]'.includes(c)) {
        out.push({ t: 'op', v: c });
        i++;
      } else throw new ExpressionError(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  return out;
}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'var'; path: string }
  | { k: 'not'; e: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'index'; e: Node; i: Node }
  | { k: 'call'; name: string; args: Node[] }
  | { k: 'method'; name: string; target: Node; args: Node[] };

class Parser {
  #i = 0;
  constructor(readonly tokens: Token[]) {}
  parse(): Node {
    const n = this.or();
    if (this.#i < this.tokens.length) throw new ExpressionError(`unexpected ${JSON.stringify(this.tokens[this.#i]!.v)}`);
    return n;
  }
  #peek(v: string) {
    const t = this.tokens[this.#i];
    return t?.t === 'op' && t.v === v;
  }
  #expect(v: string) {
    if (!this.#peek(v)) throw new ExpressionError(`expected ${v}`);
    this.#i++;
  }
  or(): Node {
    let l = this.and();
    while (this.#peek('||')) {
      this.#i++;
      l = { k: 'bin', op: '||', l, r: this.and() };
    }
    return l;
  }
  and(): Node {
    let l = this.unary();
    while (this.#peek('&&')) {
      this.#i++;
      l = { k: 'bin', op: '&&', l, r: this.unary() };
    }
    return l;
  }
  unary(): Node {
    if (this.#peek('!')) {
      this.#i++;
      return { k: 'not', e: this.unary() };
    }
    const l = this.postfix();
    for (const op of ['==', '!=']) {
      if (this.#peek(op)) {
        this.#i++;
        return { k: 'bin', op, l, r: this.postfix() };
      }
    }
    return l;
  }
  #args(): Node[] {
    this.#expect('(');
    const args: Node[] = [];
    if (!this.#peek(')')) {
      args.push(this.or());
      while (this.#peek(',')) {
        this.#i++;
        args.push(this.or());
      }
    }
    this.#expect(')');
    return args;
  }
  postfix(): Node {
    let n = this.primary();
    for (;;) {
      if (this.#peek('[')) {
        this.#i++;
        const i = this.or();
        this.#expect(']');
        n = { k: 'index', e: n, i };
      } else if (this.#peek('.')) {
        this.#i++;
        const t = this.tokens[this.#i++];
        if (t?.t !== 'id') throw new ExpressionError('expected a name after "."');
        if (!this.#peek('(')) throw new ExpressionError(`unexpected field ${t.v}`);
        n = { k: 'method', name: t.v, target: n, args: this.#args() };
      } else return n;
    }
  }
  primary(): Node {
    const t = this.tokens[this.#i++];
    if (!t) throw new ExpressionError('unexpected end of expression');
    if (t.t === 'str' || t.t === 'num') return { k: 'lit', v: t.v };
    if (t.t === 'op') {
      if (t.v !== '(') throw new ExpressionError(`unexpected ${t.v}`);
      const n = this.or();
      this.#expect(')');
      return n;
    }
    if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
    // A dotted name: a function (`strings.upper(`), a variable, or a variable with a method.
    const parts = [t.v];
    while (this.#peek('.') && this.tokens[this.#i + 1]?.t === 'id') {
      parts.push((this.tokens[this.#i + 1] as { v: string }).v);
      this.#i += 2;
    }
    if (this.#peek('(')) {
      const name = parts.join('.');
      if (FUNCTIONS[name]) return { k: 'call', name, args: this.#args() };
      const method = parts.pop()!;
      if (parts.length === 0) throw new ExpressionError(`unknown function ${name}`);
      return { k: 'method', name: method, target: { k: 'var', path: parts.join('.') }, args: this.#args() };
    }
    return { k: 'var', path: parts.join('.') };
  }
}

const asSet = (v: Value): string[] => {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  throw new ExpressionError('expected a set of strings');
};
const asString = (v: Value): string => {
  if (typeof v !== 'string') throw new ExpressionError('expected a string');
  return v;
};
const asDate = (v: Value): Date => {
  if (!(v instanceof Date)) throw new ExpressionError('expected a time');
  return v;
};
const mapStrings = (v: Value, f: (s: string) => string): Value => (Array.isArray(v) ? v.map(f) : f(asString(v)));

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  set: (...a) => [...new Set(a.flatMap(asSet))],
  union: (...a) => [...new Set(a.flatMap(asSet))],
  contains_any: (a, b) => asSet(b!).some((x) => asSet(a!).includes(x)),
  contains_all: (a, b) => asSet(b!).length > 0 && asSet(b!).every((x) => asSet(a!).includes(x)),
  is_empty: (a) => asSet(a!).length === 0,
  ifelse: (c, a, b) => (c === true ? a! : b!),
  'strings.upper': (v) => mapStrings(v!, (s) => s.toUpperCase()),
  'strings.lower': (v) => mapStrings(v!, (s) => s.toLowerCase()),
  'strings.replaceall': (v, a, b) => mapStrings(v!, (s) => s.split(asString(a!)).join(asString(b!))),
  'strings.split': (v, sep) => asString(v!).split(asString(sep!)),
  'email.local': (v) => mapStrings(v!, (s) => (s.includes('@') ? s.slice(0, s.lastIndexOf('@')) : s)),
  'time.RFC3339': (v) => {
    const d = new Date(asString(v!));
    if (Number.isNaN(d.getTime())) throw new ExpressionError(`bad RFC 3339 time ${String(v)}`);
    return d;
  },
  before: (a, b) => asDate(a!) < asDate(b!),
  after: (a, b) => asDate(a!) > asDate(b!),
  between: (t, a, b) => asDate(t!) > asDate(a!) && asDate(t!) < asDate(b!),
};

const METHODS: Record<string, (target: Value, ...args: Value[]) => Value> = {
  contains: (t, x) => asSet(t).includes(asString(x!)),
  contains_any: (t, x) => FUNCTIONS.contains_any!(t, x!),
  contains_all: (t, x) => FUNCTIONS.contains_all!(t, x!),
  isempty: (t) => asSet(t).length === 0,
  add: (t, ...xs) => [...new Set([...asSet(t), ...xs.flatMap(asSet)])],
  remove: (t, ...xs) => asSet(t).filter((s) => !xs.flatMap(asSet).includes(s)),
};

function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x) => b.includes(x));
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

function evaluate(n: Node, env: ExpressionEnv): Value {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'var': {
      if (!(n.path in env)) throw new ExpressionError(`unknown variable ${n.path}`);
      return env[n.path]!;
    }
    case 'not':
      return evaluate(n.e, env) !== true;
    case 'bin': {
      if (n.op === '&&') return evaluate(n.l, env) === true && evaluate(n.r, env) === true;
      if (n.op === '||') return evaluate(n.l, env) === true || evaluate(n.r, env) === true;
      const same = equal(evaluate(n.l, env), evaluate(n.r, env));
      return n.op === '==' ? same : !same;
    }
    case 'index': {
      const m = evaluate(n.e, env);
      if (typeof m !== 'object' || Array.isArray(m) || m instanceof Date) throw new ExpressionError('only maps can be indexed');
      return m[asString(evaluate(n.i, env))] ?? [];
    }
    case 'call':
      return FUNCTIONS[n.name]!(...n.args.map((a) => evaluate(a, env)));
    case 'method': {
      const f = METHODS[n.name];
      if (!f) throw new ExpressionError(`unknown method ${n.name}`);
      return f(evaluate(n.target, env), ...n.args.map((a) => evaluate(a, env)));
    }
  }
}

/** Parses and evaluates; true only for a boolean true. Throws {@link ExpressionError}. */
export function evaluateCondition(condition: string, env: ExpressionEnv): boolean {
  return evaluate(new Parser(tokenize(condition)).parse(), env) === true;
}

/** True when the condition mentions `user.` (so traits must be fetched). */
export function usesUserTraits(condition: string): boolean {
  return /\buser\.traits\b/.test(condition);
}
