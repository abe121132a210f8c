'use strict';
// Type-checks dashboard JSON files against @grafana/schema (and @grafana/data's transformer
// options and unit ids) with the TypeScript compiler, --strict, literals not widened.
// usage: node typecheck.cjs DASHBOARD.json...   exit 0 clean, 1 type errors, 2 bad usage.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const grafana = require('./grafana.cjs');

const HERE = __dirname;
const CUSTOM_UNITS = ['prefix', 'suffix', 'si', 'count', 'currency', 'time', 'bool'];

function unitsSource() {
  const ids = grafana.getValueFormats().flatMap((category) => category.submenu.map((u) => u.value));
  const custom = CUSTOM_UNITS.map((kind) => `\`${kind}:\${string}\``);
  return `export type Unit =\n  | ${[...ids.map((id) => JSON.stringify(id)), ...custom].join('\n  | ')};\n`;
}

function transformersSource() {
  const keys = new Map(); // id → key; the first wins (seriesToColumns is joinByField's old name)
  for (const [key, info] of Object.entries(grafana.standardTransformers)) {
    if (!keys.has(info.id)) keys.set(info.id, key);
  }
  const lines = [...keys].map(([id, key]) => `  ${JSON.stringify(id)}: ${JSON.stringify(key)};`);
  return `export type TransformerKeys = {\n${lines.join('\n')}\n};\n`;
}

function dashboardSource(board) {
  const { panels = [], ...rest } = board;
  const out = ["import type { DashboardModel, PanelOf } from './types';", ''];
  panels.forEach((panel, i) => {
    out.push(`// panel ${panel.id} ${JSON.stringify(panel.title)}`);
    out.push(`const panel${i} = ${JSON.stringify(panel, null, 2)} satisfies PanelOf<${JSON.stringify(panel.type)}>;`);
  });
  const list = panels.map((_, i) => `panel${i}`).join(', ');
  const body = JSON.stringify(rest, null, 2).replace(/\n}$/, `,\n  "panels": [${list}]\n}`);
  out.push('// panel none: the dashboard');
  out.push(`export const dashboard = ${body} satisfies DashboardModel;`, '');
  return out.join('\n');
}

function check(files) {
  const virtual = new Map([
    [path.join(HERE, 'units.gen.ts'), unitsSource()],
    [path.join(HERE, 'transformers.gen.ts'), transformersSource()],
  ]);
  const roots = files.map((file) => {
    const name = path.join(HERE, path.basename(file, '.json').replace(/[^\w-]/g, '_') + '.ts');
    virtual.set(name, dashboardSource(JSON.parse(fs.readFileSync(file, 'utf8'))));
    return name;
  });
  const options = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, noErrorTruncation: true,
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...more) => virtual.has(f)
    ? ts.createSourceFile(f, virtual.get(f), lang, true)
    : getSourceFile.call(host, f, lang, ...more);
  const program = ts.createProgram([...roots, path.join(HERE, 'types.ts')], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  for (const d of diagnostics) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
    if (!d.file) { console.log(text); continue; }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const lines = d.file.text.split('\n');
    let panel = 'dashboard';
    for (let i = line; i >= 0; i--) {
      if (lines[i].startsWith('// panel ')) { panel = lines[i].slice(3); break; }
    }
    console.log(`${path.basename(d.file.fileName)}:${line + 1}: ${panel}: ${lines[line].trim()}\n  ${text}`);
  }
  return diagnostics.length;
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node typecheck.cjs DASHBOARD.json...');
    process.exit(2);
  }
  const errors = check(files);
  console.log(errors ? `${errors} type error(s)` : `${files.length} dashboard(s) type-check`);
  process.exit(errors ? 1 : 0);
}
