// The key reference of docs/config.md, rendered from the schema so that the
// documentation is the schema's own descriptions, defaults and ranges. A test
// compares the rendering with the file; `pdpilot config reference` prints it.
import { ConfigSchema, type SchemaNode } from './schema.js';

export interface KeyEntry {
  /** Dotted path; array items appear as `[]`, e.g. `admin.tokens[].scope`. */
  path: string;
  node: SchemaNode;
  required: boolean;
}

/** Every key of the config, depth first in schema order. */
export function configKeys(schema: SchemaNode = ConfigSchema as SchemaNode): KeyEntry[] {
  const entries: KeyEntry[] = [];
  const walk = (node: SchemaNode, prefix: string) => {
    const objectNode = node.type === 'array' && node.items ? node.items : node;
    const base = node.type === 'array' ? `${prefix}[]` : prefix;
    if (objectNode.type !== 'object' || !objectNode.properties) return;
    for (const [key, child] of Object.entries(objectNode.properties)) {
      const path = base === '' ? key : `${base}.${key}`;
      entries.push({ path, node: child, required: objectNode.required?.includes(key) ?? false });
      walk(child, path);
    }
  };
  walk(schema, '');
  return entries;
}

/** Markdown: one heading per top-level section, a table of its keys. */
export function renderReference(schema: SchemaNode = ConfigSchema as SchemaNode): string {
  const lines: string[] = [];
  for (const entry of configKeys(schema)) {
    if (!entry.path.includes('.')) {
      if (lines.length > 0) lines.push('');
      lines.push(`### \`${entry.path}\``, '', entry.node.description ?? '', '', '| key | type | default | allowed | meaning |', '| --- | --- | --- | --- | --- |');
      continue;
    }
    lines.push(`| \`${entry.path}\` | ${typeOf(entry.node)} | ${defaultOf(entry)} | ${allowedOf(entry.node)} | ${cell(entry.node.description ?? '')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function typeOf(node: SchemaNode): string {
  if (node.anyOf) return 'string';
  if (node.type === 'array') return `array of ${node.items?.type ?? 'values'}s`;
  if (node.type === 'object' && node.properties === undefined) return 'object (free-form)';
  return node.type ?? 'any';
}

function defaultOf(entry: KeyEntry): string {
  const value = entry.node.default;
  if (value === undefined) return entry.required ? 'required' : 'unset';
  // A section's `{}` default only lets it be left out; its keys carry the real defaults.
  if (entry.node.type === 'object' && entry.node.properties !== undefined) return '—';
  return `\`${JSON.stringify(value)}\``;
}

function allowedOf(node: SchemaNode): string {
  if (node.anyOf) return node.anyOf.map((variant) => `\`${JSON.stringify(variant.const)}\``).join(', ');
  const bounds: string[] = [];
  if (node.exclusiveMinimum !== undefined) bounds.push(`> ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) bounds.push(`≥ ${node.minimum}`);
  if (node.exclusiveMaximum !== undefined) bounds.push(`< ${node.exclusiveMaximum}`);
  if (node.maximum !== undefined) bounds.push(`≤ ${node.maximum}`);
  if (node.type === 'string' && node.minLength === 1) bounds.push('non-empty');
  return bounds.length > 0 ? bounds.join(', ') : '—';
}

/** Table cells cannot hold a pipe or a line break. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
