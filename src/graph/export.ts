// The dependency graph written out for other tools: GEXF 1.3 (what Gephi opens natively), GraphML
// (Gephi, yEd, Cytoscape, NetworkX, igraph) and graphology's own JSON serialization. No XML library:
// the documents are small and flat, so they are written by hand, every string XML-escaped.
//
// Output is deterministic: nodes and edges in the graph's insertion order, no timestamps, and edge
// ids that do not depend on the process. An edge added with a key keeps it; an edge whose key
// graphology generated ("geid_<instance>_<n>", where the instance counter starts from a random byte
// in each process: graphology's incrementalIdStartingFromRandomByte) gets "e<i>", its index in the
// graph's edge order, in all three formats alike (see edgeIds).
//
// Formats, as specified by:
// - GEXF 1.3: https://gexf.net (data module: https://gephi.org/gexf/data.html; schema
//   https://github.com/gephi/gexf/tree/master/specs/1.3, gexf.rnc and data.xsd) and Gephi's notes at
//   https://docs.gephi.org/desktop/User_Manual/Import/GEXF_File_Format. Root
//   `<gexf xmlns="http://gexf.net/1.3" version="1.3">`; `<graph defaultedgetype="directed">`;
//   `<attributes class="node|edge">` declare `<attribute id title type>` (type "string", "integer"…);
//   `<node id label>` and `<edge id source target>` carry `<attvalues><attvalue for value/>`.
//   1.3 adds `kind` on `<edge>` for multigraphs (parallel edges): we set it to the channel, so
//   Gephi keeps two edges between the same nodes apart when their channels differ.
// - GraphML: the GraphML Primer, http://graphml.graphdrawing.org/primer/graphml-primer.html, and
//   schema http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd. Namespace
//   http://graphml.graphdrawing.org/xmlns; `<key id for="node|edge" attr.name attr.type>`
//   (attr.type boolean|int|long|float|double|string) declared before `<graph>`;
//   `<graph edgedefault="directed">`; values as `<data key>text</data>`. Gephi reads a node key
//   named "label" as the node's label (https://docs.gephi.org/desktop/User_Manual/Import/GraphML_Format).
// - JSON: graphology's serialization format (https://graphology.github.io/serialization.html),
//   i.e. `graph.export()` with the edge ids above as keys, so `MultiDirectedGraph.from(JSON.parse(text))`
//   rebuilds the graph.
import type { DependencyGraph } from './build.ts';

export type GraphFormat = 'gexf' | 'graphml' | 'json';
/** The formats `contagion graph --format` accepts, in the order its help lists them. */
export const GRAPH_FORMATS: readonly GraphFormat[] = ['gexf', 'graphml', 'json'];

export interface GraphExportOptions {
  /** A sentence describing the graph (GEXF `<meta><description>`, GraphML `<desc>`); XML only. */
  description?: string;
}

/** The graph serialized in `format`, ending with a newline. */
export function exportGraph(g: DependencyGraph, format: GraphFormat, options: GraphExportOptions = {}): string {
  switch (format) {
    case 'gexf':
      return toGexf(g, options);
    case 'graphml':
      return toGraphml(g, options);
    case 'json':
      return toJson(g);
  }
}

// graphology marks the keys it generates with this prefix (it tests `key.startsWith('geid_')` itself).
const GENERATED_EDGE_KEY = /^geid_\d+_\d+$/;

/**
 * The id each edge is written with, by graphology key: the key itself when it was given, "e<i>" (the
 * edge's index in the graph's edge order) when graphology generated it, made unique against the
 * given keys by appending "_" if one of them happens to be "e<i>".
 */
export function edgeIds(g: DependencyGraph): Map<string, string> {
  const ids = new Map<string, string>();
  let i = 0;
  g.forEachEdge((key) => {
    let id = key;
    if (GENERATED_EDGE_KEY.test(key)) {
      id = `e${i}`;
      while (g.hasEdge(id)) id += '_';
    }
    ids.set(key, id);
    i++;
  });
  return ids;
}

// Characters that XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR; U+FFFE and
// U+FFFF; unpaired surrogates): replaced by U+FFFD rather than producing a document no parser reads.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Character references, so attribute-value normalization does not turn them into spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** `s` made safe inside an XML attribute value (double or single quoted) or text content. */
export function xmlEscape(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[&<>"'\t\n\r]/g, (c) => ESCAPES[c]!);
}

/** `name="value" …` with every value escaped; undefined values are left out. */
function attrs(pairs: Array<[string, string | number | undefined]>): string {
  return pairs
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** GEXF 1.3: nodes with kind, subKind and denseId attributes, edges with their channel. */
export function toGexf(g: DependencyGraph, options: GraphExportOptions = {}): string {
  const out: string[] = [XML_DECLARATION];
  out.push(`<gexf${attrs([['xmlns', 'http://gexf.net/1.3'], ['xmlns:xsi', XSI], ['xsi:schemaLocation', 'http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd'], ['version', '1.3']])}>`);
  out.push('  <meta>', '    <creator>contagion</creator>');
  if (options.description !== undefined) out.push(`    <description>${xmlEscape(options.description)}</description>`);
  out.push('  </meta>');
  out.push('  <graph defaultedgetype="directed" mode="static" idtype="string">');
  out.push('    <attributes class="node">');
  out.push('      <attribute id="kind" title="kind" type="string"/>');
  out.push('      <attribute id="subKind" title="subKind" type="string"/>');
  out.push('      <attribute id="denseId" title="denseId" type="integer"/>');
  out.push('    </attributes>');
  out.push('    <attributes class="edge">');
  out.push('      <attribute id="channel" title="channel" type="string"/>');
  out.push('    </attributes>');
  out.push(`    <nodes count="${g.order}">`);
  g.forEachNode((key, a) => {
    out.push(`      <node${attrs([['id', key], ['label', a.label]])}>`);
    out.push('        <attvalues>');
    out.push(`          <attvalue${attrs([['for', 'kind'], ['value', a.kind]])}/>`);
    if (a.subKind !== undefined) out.push(`          <attvalue${attrs([['for', 'subKind'], ['value', a.subKind]])}/>`);
    out.push(`          <attvalue${attrs([['for', 'denseId'], ['value', a.denseId]])}/>`);
    out.push('        </attvalues>');
    out.push('      </node>');
  });
  out.push('    </nodes>');
  out.push(`    <edges count="${g.size}">`);
  const ids = edgeIds(g);
  g.forEachEdge((key, a, source, target) => {
    out.push(`      <edge${attrs([['id', ids.get(key)], ['source', source], ['target', target], ['kind', a.channel], ['label', a.channel]])}>`);
    out.push(`        <attvalues><attvalue${attrs([['for', 'channel'], ['value', a.channel]])}/></attvalues>`);
    out.push('      </edge>');
  });
  out.push('    </edges>', '  </graph>', '</gexf>');
  return out.join('\n') + '\n';
}

/** GraphML: keys label, kind, subKind, denseId for nodes and channel for edges. */
export function toGraphml(g: DependencyGraph, options: GraphExportOptions = {}): string {
  const out: string[] = [XML_DECLARATION];
  out.push(`<graphml${attrs([['xmlns', 'http://graphml.graphdrawing.org/xmlns'], ['xmlns:xsi', XSI], ['xsi:schemaLocation', 'http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd']])}>`);
  if (options.description !== undefined) out.push(`  <desc>${xmlEscape(options.description)}</desc>`);
  out.push('  <key id="label" for="node" attr.name="label" attr.type="string"/>');
  out.push('  <key id="kind" for="node" attr.name="kind" attr.type="string"/>');
  out.push('  <key id="subKind" for="node" attr.name="subKind" attr.type="string"/>');
  out.push('  <key id="denseId" for="node" attr.name="denseId" attr.type="int"/>');
  out.push('  <key id="channel" for="edge" attr.name="channel" attr.type="string"/>');
  out.push('  <graph id="G" edgedefault="directed">');
  g.forEachNode((key, a) => {
    out.push(`    <node${attrs([['id', key]])}>`);
    out.push(`      <data key="label">${xmlEscape(a.label)}</data>`);
    out.push(`      <data key="kind">${xmlEscape(a.kind)}</data>`);
    if (a.subKind !== undefined) out.push(`      <data key="subKind">${xmlEscape(a.subKind)}</data>`);
    out.push(`      <data key="denseId">${a.denseId}</data>`);
    out.push('    </node>');
  });
  const ids = edgeIds(g);
  g.forEachEdge((key, a, source, target) => {
    out.push(`    <edge${attrs([['id', ids.get(key)], ['source', source], ['target', target]])}>`);
    out.push(`      <data key="channel">${xmlEscape(a.channel)}</data>`);
    out.push('    </edge>');
  });
  out.push('  </graph>', '</graphml>');
  return out.join('\n') + '\n';
}

/** graphology's serialization (`graph.export()`, edge keys as in edgeIds), pretty-printed. */
export function toJson(g: DependencyGraph): string {
  const data = g.export();
  const ids = edgeIds(g);
  data.edges = data.edges.map((e) => (e.key === undefined ? e : { ...e, key: ids.get(e.key) ?? e.key }));
  return JSON.stringify(data, null, 2) + '\n';
}
