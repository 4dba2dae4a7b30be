// Graph export (issue 4, "Graph export"): the dependency graph written as GEXF 1.3, GraphML and
// graphology JSON. Each format must carry every node with its kind and every edge with its channel,
// be well-formed XML (checked by a small parser below, no dependency), escape hostile labels, round
// trip (JSON), be deterministic, and be reachable through the real `contagion graph` command.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiDirectedGraph } from 'graphology';
import type { SerializedGraph } from 'graphology-types';
import { describe, expect, test } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph, type DependencyGraph, type EdgeAttributes, type NodeAttributes } from '../src/graph/build.ts';
import { edgeIds, exportGraph, GRAPH_FORMATS, toGexf, toGraphml, toJson, xmlEscape } from '../src/graph/export.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { runCli } from './fixtures/cli.ts';

// ---------------------------------------------------------------------------------------------
// A minimal XML 1.0 well-formedness checker and tree builder: prolog, comments, elements with
// quoted attributes, character data and the five predefined entities plus character references.
// It throws on anything malformed: unbalanced or mismatched tags, a bare '<' or '&', duplicate
// attributes, characters XML cannot carry, more than one root, or content after the root.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeReferences(raw: string, at: number): string {
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(raw)) throw new Error(`character not allowed in XML near offset ${at}`);
  return raw.replace(/&([^;]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare '&' near offset ${at}`);
    const named = PREDEFINED[body];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body);
    if (!m) throw new Error(`unknown entity &${body}; near offset ${at}`);
    return String.fromCodePoint(m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10));
  });
}

function parseXml(src: string): XmlElement {
  let i = 0;
  const skipMisc = (): void => {
    for (;;) {
      while (i < src.length && ' \t\r\n'.includes(src[i]!)) i++;
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i + 4);
        if (end < 0) throw new Error('unterminated comment');
        i = end + 3;
      } else return;
    }
  };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  skipMisc();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < src.length) {
    if (stack.length === 0 && root) {
      skipMisc();
      if (i < src.length) throw new Error(`content after the root element at offset ${i}`);
      break;
    }
    const lt = src.indexOf('<', i);
    if (stack.length === 0 && lt !== i) throw new Error(`text outside the root element at offset ${i}`);
    if (lt < 0) throw new Error('unclosed elements at end of document');
    if (lt > i) {
      const raw = src.slice(i, lt);
      if (raw.includes(']]>')) throw new Error(`"]]>" in text at offset ${i}`);
      stack[stack.length - 1]!.text += decodeReferences(raw, i);
      i = lt;
    }
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('</', i)) {
      const m = NAME.exec(src.slice(i + 2));
      const close = src.indexOf('>', i);
      if (!m || close < 0 || src.slice(i + 2 + m[0].length, close).trim() !== '') throw new Error(`malformed end tag at offset ${i}`);
      const open = stack.pop();
      if (!open || open.name !== m[0]) throw new Error(`</${m[0]}> at offset ${i} does not close <${open?.name ?? '(nothing)'}>`);
      i = close + 1;
    } else {
      const m = NAME.exec(src.slice(i + 1));
      if (!m) throw new Error(`malformed start tag at offset ${i}`);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      i += 1 + m[0].length;
      for (;;) {
        const ws = /^[ \t\r\n]*/.exec(src.slice(i))![0].length;
        i += ws;
        if (src.startsWith('/>', i) || src[i] === '>') break;
        if (ws === 0) throw new Error(`attributes must be separated by white space at offset ${i}`);
        const a = /^([A-Za-z_:][A-Za-z0-9_:.-]*)[ \t\r\n]*=[ \t\r\n]*("([^<"]*)"|'([^<']*)')/.exec(src.slice(i));
        if (!a) throw new Error(`malformed attribute at offset ${i}: ${src.slice(i, i + 40)}`);
        const name = a[1]!;
        if (name in el.attrs) throw new Error(`duplicate attribute ${name} at offset ${i}`);
        el.attrs[name] = decodeReferences(a[3] ?? a[4] ?? '', i);
        i += a[0].length;
      }
      (stack[stack.length - 1]?.children ?? []).push(el);
      if (stack.length === 0) root = el;
      if (src.startsWith('/>', i)) i += 2;
      else {
        i += 1;
        stack.push(el);
      }
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every descendant element named `name`, in document order. */
function all(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...all(c, name)]);
}
function one(el: XmlElement, name: string): XmlElement {
  const found = all(el, name);
  expect(found, `exactly one <${name}>`).toHaveLength(1);
  return found[0]!;
}
/** GEXF: the attvalues of a node or edge as { for: value }. */
function attvalues(el: XmlElement): Record<string, string> {
  return Object.fromEntries(all(el, 'attvalue').map((v) => [v.attrs.for!, v.attrs.value!]));
}
/** GraphML: the data of a node or edge as { key: text }. */
function dataOf(el: XmlElement): Record<string, string> {
  return Object.fromEntries(el.children.filter((c) => c.name === 'data').map((d) => [d.attrs.key!, d.text]));
}

// ---------------------------------------------------------------------------------------------

const exp = parseExperiment(minimalExperiment(), 'minimal');
const g = buildGraph(exp);
const nodeKeys = g.nodes();
// buildGraph gives every edge a stable key, source->target:channel, which the exports keep.
const ids = edgeIds(g);
const EDGE_IDS = [
  'asset:BTC->oracle:btc-oracle:oracle',
  'asset:ETH->oracle:eth-oracle:oracle',
  'fund:fund->protocol:perpdex:backs',
  'vault:vault->protocol:perpdex:backs',
  'asset:BTC->protocol:perpdex:position',
  'oracle:btc-oracle->protocol:perpdex:oracle',
  'asset:ETH->protocol:perpdex:position',
  'oracle:eth-oracle->protocol:perpdex:oracle',
  'cohort:degens->protocol:perpdex:position',
  'protocol:perpdex->cohort:degens:position',
  'cohort:makers->protocol:perpdex:position',
  'protocol:perpdex->cohort:makers:position',
  'cohort:liquidators->protocol:perpdex:position',
  'protocol:perpdex->cohort:liquidators:position',
];
/** The graphology key of an exported edge id. */
const keyOf = new Map([...ids].map(([key, id]) => [id, key]));
const CHANNEL_COUNTS = { oracle: 4, backs: 2, position: 8 };

function counts(values: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const v of values) c[v] = (c[v] ?? 0) + 1;
  return c;
}

describe('the dependency graph being exported', () => {
  test('the minimal experiment has 10 nodes and 14 edges (4 oracle, 2 backs, 8 position)', () => {
    expect(g.order).toBe(10);
    expect(g.size).toBe(14);
    expect(counts(g.mapEdges((_, a) => a.channel))).toEqual(CHANNEL_COUNTS);
  });
});

describe('GEXF 1.3', () => {
  const text = toGexf(g, { description: 'minimal' });
  const doc = parseXml(text);

  test('is a well-formed GEXF 1.3 document with a directed static graph', () => {
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(doc.name).toBe('gexf');
    expect(doc.attrs.xmlns).toBe('http://gexf.net/1.3');
    expect(doc.attrs.version).toBe('1.3');
    const graph = one(doc, 'graph');
    expect(graph.attrs.defaultedgetype).toBe('directed');
    expect(graph.attrs.mode).toBe('static');
    expect(one(doc, 'description').text).toBe('minimal');
  });

  test('declares kind, subKind, denseId for nodes and channel for edges', () => {
    const decl = all(doc, 'attributes');
    expect(decl.map((d) => d.attrs.class)).toEqual(['node', 'edge']);
    const nodeDecl = decl[0]!.children.map((a) => [a.attrs.id, a.attrs.title, a.attrs.type]);
    expect(nodeDecl).toEqual([
      ['kind', 'kind', 'string'],
      ['subKind', 'subKind', 'string'],
      ['denseId', 'denseId', 'integer'],
    ]);
    expect(decl[1]!.children.map((a) => [a.attrs.id, a.attrs.title, a.attrs.type])).toEqual([['channel', 'channel', 'string']]);
  });

  test('has the 10 nodes in graph order with label, kind, subKind and denseId', () => {
    const nodes = all(doc, 'node');
    expect(nodes).toHaveLength(10);
    expect(one(doc, 'nodes').attrs.count).toBe('10');
    expect(nodes.map((n) => n.attrs.id)).toEqual(nodeKeys);
    for (const n of nodes) {
      const a = g.getNodeAttributes(n.attrs.id!);
      expect(n.attrs.label).toBe(a.label);
      const v = attvalues(n);
      expect(v.kind).toBe(a.kind);
      expect(v.subKind).toBe(a.subKind);
      expect(Number(v.denseId)).toBe(a.denseId);
    }
    expect(attvalues(nodes.find((n) => n.attrs.id === 'protocol:perpdex')!)).toEqual({ kind: 'protocol', subKind: 'perp', denseId: '0' });
    expect(attvalues(nodes.find((n) => n.attrs.id === 'cohort:liquidators')!)).toEqual({ kind: 'cohort', subKind: 'liquidator', denseId: '2' });
  });

  test('has the 14 edges with graphology keys, endpoints and channel', () => {
    const edges = all(doc, 'edge');
    expect(edges).toHaveLength(14);
    expect(one(doc, 'edges').attrs.count).toBe('14');
    expect(edges.map((e) => e.attrs.id)).toEqual(EDGE_IDS);
    for (const e of edges) {
      const key = keyOf.get(e.attrs.id!)!;
      expect(e.attrs.source).toBe(g.source(key));
      expect(e.attrs.target).toBe(g.target(key));
      expect(attvalues(e)).toEqual({ channel: g.getEdgeAttribute(key, 'channel') });
      expect(e.attrs.kind).toBe(g.getEdgeAttribute(key, 'channel'));
    }
    expect(counts(edges.map((e) => attvalues(e).channel!))).toEqual(CHANNEL_COUNTS);
  });
});

describe('GraphML', () => {
  const text = toGraphml(g, { description: 'minimal' });
  const doc = parseXml(text);

  test('is a well-formed GraphML document with a directed graph', () => {
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(doc.name).toBe('graphml');
    expect(doc.attrs.xmlns).toBe('http://graphml.graphdrawing.org/xmlns');
    expect(one(doc, 'graph').attrs.edgedefault).toBe('directed');
    // <key> declarations come before the <graph> (GraphML Primer, section 2.4).
    const names = doc.children.map((c) => c.name);
    expect(names.lastIndexOf('key')).toBeLessThan(names.indexOf('graph'));
  });

  test('declares node keys label, kind, subKind, denseId and the edge key channel', () => {
    const keys = all(doc, 'key').map((k) => [k.attrs.id, k.attrs.for, k.attrs['attr.name'], k.attrs['attr.type']]);
    expect(keys).toEqual([
      ['label', 'node', 'label', 'string'],
      ['kind', 'node', 'kind', 'string'],
      ['subKind', 'node', 'subKind', 'string'],
      ['denseId', 'node', 'denseId', 'int'],
      ['channel', 'edge', 'channel', 'string'],
    ]);
  });

  test('has the 10 nodes with their data', () => {
    const nodes = all(doc, 'node');
    expect(nodes).toHaveLength(10);
    expect(nodes.map((n) => n.attrs.id)).toEqual(nodeKeys);
    for (const n of nodes) {
      const a = g.getNodeAttributes(n.attrs.id!);
      const d = dataOf(n);
      expect(d.label).toBe(a.label);
      expect(d.kind).toBe(a.kind);
      expect(d.subKind).toBe(a.subKind);
      expect(Number(d.denseId)).toBe(a.denseId);
    }
    expect(dataOf(nodes.find((n) => n.attrs.id === 'cohort:degens')!)).toEqual({ label: 'degens', kind: 'cohort', subKind: 'directional', denseId: '0' });
  });

  test('has the 14 edges with their channel', () => {
    const edges = all(doc, 'edge');
    expect(edges).toHaveLength(14);
    expect(edges.map((e) => e.attrs.id)).toEqual(EDGE_IDS);
    for (const e of edges) {
      const key = keyOf.get(e.attrs.id!)!;
      expect([e.attrs.source, e.attrs.target]).toEqual([g.source(key), g.target(key)]);
      expect(dataOf(e)).toEqual({ channel: g.getEdgeAttribute(key, 'channel') });
    }
    expect(counts(edges.map((e) => dataOf(e).channel!))).toEqual(CHANNEL_COUNTS);
  });
});

describe('JSON (graphology serialization)', () => {
  const text = toJson(g);

  test('is graph.export() and round-trips through MultiDirectedGraph.from', () => {
    const data = JSON.parse(text) as SerializedGraph<NodeAttributes, EdgeAttributes>;
    // graph.export(), with the process-independent edge ids as keys.
    const exported = g.export();
    expect(data).toEqual(JSON.parse(JSON.stringify({ ...exported, edges: exported.edges.map((e) => ({ ...e, key: ids.get(e.key!) })) })));
    expect(data.options).toEqual({ type: 'directed', multi: true, allowSelfLoops: true });
    expect(data.nodes).toHaveLength(10);
    expect(data.edges).toHaveLength(14);
    const back = MultiDirectedGraph.from<NodeAttributes, EdgeAttributes>(data);
    expect(back.order).toBe(10);
    expect(back.size).toBe(14);
    expect(back.nodes()).toEqual(nodeKeys);
    expect(back.edges()).toEqual(EDGE_IDS);
    back.forEachNode((key, a) => expect(a).toEqual(g.getNodeAttributes(key)));
    back.forEachEdge((id, a, source, target) => {
      const key = keyOf.get(id)!;
      expect(a).toEqual({ channel: g.getEdgeAttribute(key, 'channel') });
      expect([source, target]).toEqual([g.source(key), g.target(key)]);
    });
    expect(counts(back.mapEdges((_, a) => a.channel))).toEqual(CHANNEL_COUNTS);
    // And the rebuilt graph exports to the same text.
    expect(toJson(back as DependencyGraph)).toBe(text);
  });
});

describe('escaping', () => {
  const hostile = '<&">';
  function hostileGraph(): DependencyGraph {
    const h: DependencyGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes>();
    h.addNode(`asset:${hostile}`, { kind: 'asset', denseId: 0, label: hostile });
    h.addNode("protocol:it's", { kind: 'protocol', denseId: 0, label: "tab\there\nnew line 'quoted' ]]> \u0001", subKind: 'a<b' });
    h.addDirectedEdgeWithKey(`e${hostile}`, `asset:${hostile}`, "protocol:it's", { channel: 'position' });
    return h;
  }

  test('xmlEscape escapes the five special characters, white space controls and unrepresentable characters', () => {
    expect(xmlEscape(hostile)).toBe('&lt;&amp;&quot;&gt;');
    expect(xmlEscape("'\t\n\r")).toBe('&apos;&#9;&#10;&#13;');
    expect(xmlEscape('a\u0001b\uD800c')).toBe('a\uFFFDb\uFFFDc');
    expect(xmlEscape('plain BTC-1.0_x')).toBe('plain BTC-1.0_x');
  });

  test('GEXF escapes every string and a parser reads the label back exactly', () => {
    const text = toGexf(hostileGraph(), { description: hostile });
    expect(text).not.toContain(hostile);
    const doc = parseXml(text);
    const nodes = all(doc, 'node');
    expect(nodes.map((n) => n.attrs.id)).toEqual([`asset:${hostile}`, "protocol:it's"]);
    expect(nodes[0]!.attrs.label).toBe(hostile);
    // Tab and newline survive as character references; a control character XML cannot hold becomes U+FFFD.
    expect(nodes[1]!.attrs.label).toBe("tab\there\nnew line 'quoted' ]]> \uFFFD");
    expect(attvalues(nodes[1]!).subKind).toBe('a<b');
    const edge = one(doc, 'edge');
    expect([edge.attrs.id, edge.attrs.source, edge.attrs.target]).toEqual([`e${hostile}`, `asset:${hostile}`, "protocol:it's"]);
    expect(one(doc, 'description').text).toBe(hostile);
  });

  test('GraphML escapes every string and a parser reads the label back exactly', () => {
    const text = toGraphml(hostileGraph(), { description: hostile });
    expect(text).not.toContain(hostile);
    const doc = parseXml(text);
    const nodes = all(doc, 'node');
    expect(nodes.map((n) => n.attrs.id)).toEqual([`asset:${hostile}`, "protocol:it's"]);
    expect(dataOf(nodes[0]!).label).toBe(hostile);
    expect(dataOf(nodes[1]!)).toEqual({ label: "tab\there\nnew line 'quoted' ]]> \uFFFD", kind: 'protocol', subKind: 'a<b', denseId: '0' });
    expect(one(doc, 'edge').attrs.id).toBe(`e${hostile}`);
    expect(one(doc, 'desc').text).toBe(hostile);
  });

  test('JSON keeps the label as it is', () => {
    const back = MultiDirectedGraph.from<NodeAttributes, EdgeAttributes>(JSON.parse(toJson(hostileGraph())) as SerializedGraph<NodeAttributes, EdgeAttributes>);
    expect(back.getNodeAttribute(`asset:${hostile}`, 'label')).toBe(hostile);
    expect(back.hasEdge(`e${hostile}`)).toBe(true);
  });

  test('the checker itself rejects malformed XML', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow(/does not close/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<a>x & y</a>')).toThrow(/bare '&'/);
    expect(() => parseXml('<a x="<"/>')).toThrow(/malformed attribute/);
    expect(() => parseXml('<a>')).toThrow(/unclosed/);
    expect(() => parseXml('<a/><b/>')).toThrow(/after the root/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/not allowed/);
    expect(parseXml('<?xml version="1.0"?>\n<a k=\'&lt;\'><!-- c --><b>&#x41;&amp;</b></a>\n')).toEqual({
      name: 'a',
      attrs: { k: '<' },
      text: '',
      children: [{ name: 'b', attrs: {}, children: [], text: 'A&' }],
    });
  });
});

describe('determinism', () => {
  test.each(GRAPH_FORMATS.map((f) => [f]))('%s: two exports of the graph are identical', (format) => {
    expect(exportGraph(g, format)).toBe(exportGraph(g, format));
  });

  test.each(GRAPH_FORMATS.map((f) => [f]))('%s: two graphs built from the same experiment export identically', (format) => {
    const again = buildGraph(parseExperiment(minimalExperiment(), 'minimal'));
    // Edge keys are stable (not graphology's per-process generated ones), so both graphs agree.
    expect(again.edges()).toEqual(g.edges());
    expect(exportGraph(again, format)).toBe(exportGraph(g, format));
  });

  test('edge ids: given keys are kept, generated keys become e<i>, and the two never collide', () => {
    expect([...ids.values()]).toEqual(EDGE_IDS);
    const h: DependencyGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes>();
    h.addNode('a', { kind: 'asset', denseId: 0, label: 'a' });
    h.addNode('b', { kind: 'oracle', denseId: 0, label: 'b' });
    h.addDirectedEdge('a', 'b', { channel: 'oracle' });
    h.addDirectedEdgeWithKey('e0', 'a', 'b', { channel: 'oracle' });
    h.addDirectedEdgeWithKey('custom', 'b', 'a', { channel: 'exposure' });
    h.addDirectedEdge('b', 'a', { channel: 'bridge' });
    expect([...edgeIds(h).values()]).toEqual(['e0_', 'e0', 'custom', 'e3']);
    const back = MultiDirectedGraph.from<NodeAttributes, EdgeAttributes>(JSON.parse(toJson(h)) as SerializedGraph<NodeAttributes, EdgeAttributes>);
    expect(back.edges()).toEqual(['e0_', 'e0', 'custom', 'e3']);
    expect(back.getEdgeAttribute('e0_', 'channel')).toBe('oracle');
    expect(back.getEdgeAttribute('e3', 'channel')).toBe('bridge');
  });

  test('exportGraph dispatches to the serializers', () => {
    expect(exportGraph(g, 'gexf', { description: 'd' })).toBe(toGexf(g, { description: 'd' }));
    expect(exportGraph(g, 'graphml')).toBe(toGraphml(g));
    expect(exportGraph(g, 'json')).toBe(toJson(g));
  });
});

// ---------------------------------------------------------------------------------------------
// The real command, spawned as a user runs it (another cwd, stdin closed).

const WORK = mkdtempSync(join(tmpdir(), 'contagion-graph-'));
const FILE = join(WORK, 'minimal.json');
writeFileSync(FILE, JSON.stringify(minimalExperiment(), null, 2));
const TIMEOUT = 30_000;

const contagion = (...args: string[]) => runCli(WORK, ...args);

describe('contagion graph', () => {
  test('--format gexf writes GEXF to stdout, exit 0, the same bytes on every run', () => {
    const r = contagion('graph', FILE, '--format', 'gexf');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('<?xml')).toBe(true);
    const doc = parseXml(r.stdout);
    expect(all(doc, 'node')).toHaveLength(10);
    expect(all(doc, 'edge')).toHaveLength(14);
    expect(counts(all(doc, 'edge').map((e) => attvalues(e).channel!))).toEqual(CHANNEL_COUNTS);
    expect(one(doc, 'description').text).toBe('Dependency graph of the contagion experiment "minimal"');
    expect(contagion('graph', FILE, '--format', 'gexf').stdout).toBe(r.stdout);
  }, TIMEOUT);

  test('--format json round-trips and --set is applied before the graph is built', () => {
    const r = contagion('graph', FILE, '--format', 'json', '--set', 'scenario.oracles.1.id=eth-feed', '--set', 'scenario.exchanges.0.markets.1.oracle=eth-feed');
    expect(r.status, r.stderr).toBe(0);
    const back = MultiDirectedGraph.from<NodeAttributes, EdgeAttributes>(JSON.parse(r.stdout) as SerializedGraph<NodeAttributes, EdgeAttributes>);
    expect([back.order, back.size]).toEqual([10, 14]);
    expect(back.hasNode('oracle:eth-feed')).toBe(true);
    expect(back.hasNode('oracle:eth-oracle')).toBe(false);
  }, TIMEOUT);

  test('--format dot exits 2 naming --format, the value and the allowed choices', () => {
    const r = contagion('graph', FILE, '--format', 'dot');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--format: "dot" is not an allowed value (choices: "gexf", "graphml", "json")');
    expect(r.stderr).not.toContain('    at ');
  }, TIMEOUT);

  test('a missing --format exits 2', () => {
    const r = contagion('graph', FILE);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Missing required argument: format');
  }, TIMEOUT);

  test('an invalid experiment exits 2 naming the field', () => {
    const r = contagion('graph', FILE, '--format', 'gexf', '--set', 'scenario.exchanges.0.markets.1.asset=SOL');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('scenario.exchanges.0.markets.1.asset');
    expect(r.stdout).toBe('');
  }, TIMEOUT);

  test('--out writes the file (creating its folder) and says so', () => {
    const out = join(WORK, 'nested', 'graph.graphml');
    const r = contagion('graph', FILE, '--format', 'graphml', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`wrote ${out} (graphml: 10 nodes, 14 edges)`);
    expect(existsSync(out)).toBe(true);
    const text = readFileSync(out, 'utf8');
    const doc = parseXml(text);
    expect(doc.name).toBe('graphml');
    expect(all(doc, 'node')).toHaveLength(10);
    expect(all(doc, 'edge')).toHaveLength(14);
    expect(counts(all(doc, 'edge').map((e) => dataOf(e).channel!))).toEqual(CHANNEL_COUNTS);
  }, TIMEOUT);

  test('--out on a folder exits 2', () => {
    const r = contagion('graph', FILE, '--format', 'json', '--out', WORK);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`cannot write --out ${WORK}`);
  }, TIMEOUT);
});
