/**
 * A small renderer for the subset of Helm's Go templates our charts use, so tests can render
 * the charts exactly as written (no helm binary here). It supports text/template actions
 * (`if`/`else if`/`else`, `range` with `$k, $v :=`, `with`, `define`, variables, `{{-`/`-}}`
 * trimming, comments, pipelines, parenthesised sub-pipelines) and the Sprig/Helm functions the
 * charts call. Anything else throws, so a chart cannot silently use an unsupported construct.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

type Value = unknown;
type Scope = { dot: Value; vars: Map<string, Value> };

type Node =
  | { t: 'text'; text: string }
  | { t: 'out'; pipe: string }
  | { t: 'set'; name: string; pipe: string }
  | { t: 'if'; branches: { pipe: string | null; body: Node[] }[] }
  | { t: 'range'; k?: string; v?: string; pipe: string; body: Node[]; elseBody: Node[] }
  | { t: 'with'; pipe: string; body: Node[]; elseBody: Node[] };

// ---------------------------------------------------------------- lexing actions and text

function tokenizeTemplate(src: string): ({ text: string } | { action: string })[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error('unclosed action');
    let action = src.slice(open + 2, close);
    if (action.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let next = close + 2;
    if (action.endsWith('-')) {
      action = action.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next));
      next += m ? m[0].length : 0;
    }
    parts.push({ text }, { action: action.trim() });
    i = next;
  }
  return parts;
}

function parse(src: string, defines: Map<string, Node[]>): Node[] {
  const parts = tokenizeTemplate(src);
  let pos = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const p = parts[pos++]!;
      if ('text' in p) {
        if (p.text) nodes.push({ t: 'text', text: p.text });
        continue;
      }
      const a = p.action;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0]!;
      if (stopAt.includes(word)) return { nodes, stop: a };
      if (word === 'if') {
        const branches: { pipe: string | null; body: Node[] }[] = [];
        let pipe: string | null = a.slice(2).trim();
        for (;;) {
          const r = block(['else', 'end']);
          branches.push({ pipe, body: r.nodes });
          if (r.stop === 'end') break;
          const rest = r.stop.slice(4).trim();
          pipe = rest.startsWith('if ') ? rest.slice(3).trim() : null;
          if (pipe === null) {
            const last = block(['end']);
            branches.push({ pipe: null, body: last.nodes });
            break;
          }
        }
        nodes.push({ t: 'if', branches });
      } else if (word === 'range' || word === 'with') {
        let head = a.slice(word.length).trim();
        let k: string | undefined;
        let v: string | undefined;
        const decl = /^(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*(.*)$/.exec(head);
        if (decl) {
          if (decl[2]) [k, v] = [decl[1], decl[2]];
          else v = decl[1];
          head = decl[3]!;
        }
        const r = block(['else', 'end']);
        const elseBody = r.stop === 'end' ? [] : block(['end']).nodes;
        nodes.push(word === 'range' ? { t: 'range', k, v, pipe: head, body: r.nodes, elseBody } : { t: 'with', pipe: head, body: r.nodes, elseBody });
      } else if (word === 'define') {
        const name = JSON.parse(a.slice(6).trim()) as string;
        defines.set(name, block(['end']).nodes);
      } else if (/^\$\w+\s*:?=/.test(a)) {
        const m = /^(\$\w+)\s*:?=\s*(.*)$/.exec(a)!;
        nodes.push({ t: 'set', name: m[1]!, pipe: m[2]! });
      } else if (['else', 'end', 'block', 'template'].includes(word)) {
        throw new Error(`unexpected {{${a}}}`);
      } else {
        nodes.push({ t: 'out', pipe: a });
      }
    }
    if (stopAt.length) throw new Error(`missing {{end}} (wanted ${stopAt.join('/')})`);
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

// ---------------------------------------------------------------- pipelines

type Tok = { k: 'str' | 'num' | 'word' | 'lp' | 'rp' | 'pipe'; v: string };

function lexPipe(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(') (out.push({ k: 'lp', v: c }), i++);
    else if (c === ')') (out.push({ k: 'rp', v: c }), i++);
    else if (c === '|') (out.push({ k: 'pipe', v: c }), i++);
    else if (c === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      out.push({ k: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
    } else {
      const m = /^[^\s()|]+/.exec(s.slice(i))!;
      out.push({ k: /^-?\d+(\.\d+)?$/.test(m[0]) ? 'num' : 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

const isEmpty = (v: Value): boolean =>
  v === undefined || v === null || v === false || v === 0 || v === '' ||
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

function toYaml(v: Value): string {
  if (isEmpty(v) && typeof v === 'object') return Array.isArray(v) ? '[]' : '{}';
  return YAML.stringify(v, { lineWidth: 0 }).replace(/\n$/, '');
}

function indent(n: number, s: string): string {
  const pad = ' '.repeat(n);
  return s.split('\n').map((l) => pad + l).join('\n');
}

export class Chart {
  private readonly defines = new Map<string, Node[]>();
  private readonly templates = new Map<string, Node[]>();
  readonly meta: Record<string, unknown>;
  readonly defaults: Record<string, unknown>;

  constructor(readonly dir: string) {
    this.meta = YAML.parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    this.defaults = YAML.parse(readFileSync(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    for (const f of readdirSync(join(dir, 'templates')).sort()) {
      const nodes = parse(readFileSync(join(dir, 'templates', f), 'utf8'), this.defines);
      if (!f.startsWith('_')) this.templates.set(f, nodes);
    }
  }

  /** Renders every template with the chart defaults deep-merged with `values`; returns file → text. */
  render(values: Record<string, unknown> = {}, release = { Name: 'release', Namespace: 'default' }): Map<string, string> {
    const root = {
      Values: deepMerge(this.defaults, values),
      Release: { ...release, Service: 'Helm' },
      Chart: { Name: this.meta.name, Version: this.meta.version, AppVersion: this.meta.appVersion },
    };
    const out = new Map<string, string>();
    for (const [name, nodes] of this.templates) out.set(name, this.exec(nodes, { dot: root, vars: new Map([['$', root]]) }));
    return out;
  }

  /** Renders and parses every non-empty manifest. */
  // Kubernetes reads manifests as YAML 1.1 (0600 is octal), so parse them that way.
  manifests(values: Record<string, unknown> = {}): Record<string, any>[] {
    return [...this.render(values).values()]
      .flatMap((text) => YAML.parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Record<string, any> | null))
      .filter((m): m is Record<string, any> => m !== null);
  }

  private exec(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      switch (n.t) {
        case 'text': out += n.text; break;
        case 'out': {
          const v = this.pipe(n.pipe, scope);
          out += v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
          break;
        }
        case 'set': scope.vars.set(n.name, this.pipe(n.pipe, scope)); break;
        case 'if': {
          const b = n.branches.find((br) => br.pipe === null || !isEmpty(this.pipe(br.pipe, scope)));
          if (b) out += this.exec(b.body, scope);
          break;
        }
        case 'with': {
          const v = this.pipe(n.pipe, scope);
          out += isEmpty(v) ? this.exec(n.elseBody, scope) : this.exec(n.body, { dot: v, vars: new Map(scope.vars) });
          break;
        }
        case 'range': {
          const v = this.pipe(n.pipe, scope);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v && typeof v === 'object' ? Object.keys(v).sort().map((key) => [key, (v as Record<string, Value>)[key]]) : [];
          if (!entries.length) out += this.exec(n.elseBody, scope);
          for (const [key, item] of entries) {
            const vars = new Map(scope.vars);
            if (n.k) vars.set(n.k, key);
            if (n.v) vars.set(n.v, item);
            out += this.exec(n.body, { dot: item, vars });
          }
          break;
        }
      }
    }
    return out;
  }

  private pipe(src: string, scope: Scope): Value {
    const toks = lexPipe(src);
    let pos = 0;
    const parsePipe = (): Value => {
      let acc: Value;
      let first = true;
      for (;;) {
        const args: Value[] = [];
        let fn: string | undefined;
        while (pos < toks.length && toks[pos]!.k !== 'pipe' && toks[pos]!.k !== 'rp') {
          const t = toks[pos++]!;
          if (t.k === 'lp') {
            args.push(parsePipe());
            pos++; // ')'
          } else if (t.k === 'str') args.push(t.v);
          else if (t.k === 'num') args.push(Number(t.v));
          else if (t.v === 'true' || t.v === 'false') args.push(t.v === 'true');
          else if (t.v.startsWith('.') || t.v.startsWith('$')) args.push(this.field(t.v, scope));
          else if (fn === undefined && args.length === 0) fn = t.v;
          else throw new Error(`unexpected word ${t.v} in ${src}`);
        }
        if (!first) args.push(acc);
        acc = fn ? this.call(fn, args, scope) : args[0];
        first = false;
        if (pos < toks.length && toks[pos]!.k === 'pipe') pos++;
        else return acc;
      }
    };
    return parsePipe();
  }

  private field(path: string, scope: Scope): Value {
    let base: Value;
    let rest: string;
    if (path.startsWith('$')) {
      const m = /^(\$\w*)(.*)$/.exec(path)!;
      if (!scope.vars.has(m[1]!)) throw new Error(`undefined variable ${m[1]}`);
      base = scope.vars.get(m[1]!);
      rest = m[2]!;
    } else {
      base = scope.dot;
      rest = path === '.' ? '' : path;
    }
    for (const key of rest.split('.').filter(Boolean)) {
      base = base && typeof base === 'object' ? (base as Record<string, Value>)[key] : undefined;
    }
    return base;
  }

  private call(fn: string, a: Value[], scope: Scope): Value {
    const s = (v: Value) => (v === undefined || v === null ? '' : String(v));
    switch (fn) {
      case 'include': {
        const body = this.defines.get(s(a[0]));
        if (!body) throw new Error(`no template ${s(a[0])}`);
        return this.exec(body, { dot: a[1], vars: new Map([['$', scope.vars.get('$')]]) });
      }
      case 'default': return isEmpty(a[1]) ? a[0] : a[1];
      case 'coalesce': return a.find((v) => !isEmpty(v)) ?? '';
      case 'required': if (isEmpty(a[1])) throw new Error(s(a[0])); return a[1];
      case 'quote': return JSON.stringify(s(a[0]));
      case 'squote': return `'${s(a[0])}'`;
      case 'toJson': return JSON.stringify(a[0] ?? null);
      case 'toYaml': return toYaml(a[0]);
      case 'toString': return s(a[0]);
      case 'nindent': return `\n${indent(Number(a[0]), s(a[1]))}`;
      case 'indent': return indent(Number(a[0]), s(a[1]));
      case 'b64enc': return Buffer.from(s(a[0])).toString('base64');
      case 'trunc': return s(a[1]).slice(0, Number(a[0]));
      case 'trimSuffix': return s(a[1]).endsWith(s(a[0])) ? s(a[1]).slice(0, -s(a[0]).length) : s(a[1]);
      case 'replace': return s(a[2]).split(s(a[0])).join(s(a[1]));
      case 'contains': return s(a[1]).includes(s(a[0]));
      case 'lower': return s(a[0]).toLowerCase();
      case 'printf': { let i = 1; return s(a[0]).replace(/%[sdv]/g, () => s(a[i++])); }
      case 'eq': return a.slice(1).some((v) => v === a[0]);
      case 'ne': return a[0] !== a[1];
      case 'not': return isEmpty(a[0]);
      case 'and': return a.reduce((x, y) => (isEmpty(x) ? x : y));
      case 'or': return a.find((v) => !isEmpty(v)) ?? a[a.length - 1];
      case 'empty': return isEmpty(a[0]);
      case 'hasKey': return !!a[0] && typeof a[0] === 'object' && s(a[1]) in (a[0] as object);
      default: throw new Error(`unsupported template function ${fn}`);
    }
  }
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
