'use strict';
// Runs each panel's transformations, field overrides and field lookups with @grafana/data on
// real Prometheus answers, framed as Grafana's Prometheus datasource frames them.
// usage: node live.cjs INPUT.json > REPORT.json
//   INPUT: {"dashboards": {name: dashboard JSON},
//           "answers": {name: {panel id: {refId: {resultType, result}}}}}
//   REPORT: {"panels": [{where, missing, unnamed}], "markers": [{where, layer, row, value,
//            color}], "palette": {color name: what the theme paints}}
// A missing entry is a field (or frame) the panel names that the data does not have.
const fs = require('node:fs');
const grafana = require('./grafana.cjs');
const { panelFrames } = require('./frames.cjs');

const theme = grafana.createTheme();
const PALETTE = ['red', 'green', 'orange', 'yellow', 'gray', 'blue'];

function run(transformations, frames) {
  let out;
  grafana.transformDataFrame(transformations, frames).subscribe((value) => { out = value; });
  return out;
}

function names(frames) {
  return new Set(frames.flatMap((frame) => frame.fields.flatMap(
    (field) => [field.name, grafana.getFieldDisplayName(field, frame, frames)])));
}

/** The fields (and frames) one transformation names, checked against its input. */
function transformationMissing(t, input) {
  const missing = [];
  let frames = input;
  if (t.filter) {
    frames = input.filter(grafana.getFrameMatchers(t.filter));
    if (!frames.length) missing.push(`${t.id}: no frame ${t.filter.id} ${t.filter.options}`);
  }
  const have = names(frames);
  const fields = {
    sortBy: () => t.options.sort.map((s) => s.field),
    organize: () => ['excludeByName', 'includeByName', 'renameByName', 'indexByName']
      .flatMap((key) => Object.keys(t.options[key] ?? {})),
    convertFieldType: () => t.options.conversions.map((c) => c.targetField),
  }[t.id];
  for (const name of fields ? fields() : []) {
    if (!have.has(name)) missing.push(`${t.id}: field ${JSON.stringify(name)}`);
  }
  if (t.id === 'renameByRegex' && ![...have].some((n) => new RegExp(t.options.regex).test(n))) {
    missing.push(`${t.id}: no field matches ${t.options.regex}`);
  }
  return missing;
}

function overrideMissing(override, frames) {
  const { id, options } = override.matcher;
  const have = [...names(frames)];
  if (id === 'byName' && !have.includes(options)) return [`override byName ${JSON.stringify(options)}`];
  if (id === 'byRegexp' && !have.some((n) => new RegExp(options).test(n))) {
    return [`override byRegexp ${options}`];
  }
  if (id === 'byFrameRefID' && !frames.some((f) => f.refId === options)) {
    return [`override byFrameRefID ${options}`];
  }
  return [];
}

/** The geomap's own field lookup (public/app/features/dimensions/utils.ts findField). */
function findField(frame, name) {
  return frame?.fields.find((f) => f.name === name || grafana.getFieldDisplayName(f, frame) === name);
}

/** The geomap's colour of a value (public/app/features/dimensions/color.ts,
 *  getColorDimensionForField): without the field its fixed colour; by value (thresholds
 *  mode, or any value mappings) the field's display processor with its local min/max;
 *  else the colour mode's one colour. */
function colourOf(field, config) {
  if (!field) {
    const fixed = theme.visualization.getColorByName(config.fixed ?? 'grey');
    return () => fixed;
  }
  const mode = grafana.getFieldColorModeForField(field);
  if (mode.isByValue || field.config.mappings?.length) {
    const withRange = grafana.getFieldConfigWithMinMax(field, true);
    const display = grafana.getDisplayProcessor({
      field: withRange === field.config ? field : { ...field, config: withRange, state: undefined },
      theme,
    });
    return (value) => display(value).color ?? '#ccc';
  }
  const fixed = mode.getCalculator(field, theme)(0, 0);
  return () => fixed;
}

/** A markers layer as the geomap draws it: the first frame its filter keeps, the location
 *  and colour fields found by name or display name, each marker coloured by colourOf. */
function markers(where, layer, frames) {
  const missing = [];
  const out = [];
  const kept = layer.filterData ? frames.filter(grafana.getFrameMatchers(layer.filterData)) : frames;
  const frame = kept[0];
  if (!frame) return { missing: [`layer ${layer.name}: no frame`], out };
  const style = layer.config.style;
  const color = findField(frame, style.color.field);
  const lat = findField(frame, layer.location.latitude);
  const lon = findField(frame, layer.location.longitude);
  for (const [what, field, name] of [['colour', color, style.color.field],
                                     ['latitude', lat, layer.location.latitude],
                                     ['longitude', lon, layer.location.longitude]]) {
    if (!field) missing.push(`layer ${layer.name}: ${what} field ${JSON.stringify(name)}`);
  }
  for (const field of [lat, lon]) {
    if (field && field.type !== grafana.FieldType.number) {
      missing.push(`layer ${layer.name}: ${field.name} is ${field.type}, not number`);
    }
  }
  const paint = colourOf(color, style.color);
  for (let i = 0; i < frame.length; i++) {
    const row = Object.fromEntries(frame.fields.map((f) => [f.name, f.values[i]]));
    const value = color ? color.values[i] : null;
    const painted = paint(value);
    out.push({ where, layer: layer.name, row, value, color: painted,
               lat: lat?.values[i] ?? null, lon: lon?.values[i] ?? null });
  }
  return { missing, out };
}

function checkPanel(where, panel, answers) {
  const frames = panelFrames(panel, answers);
  const missing = [];
  const transformations = panel.transformations ?? [];
  transformations.forEach((t, i) => {
    missing.push(...transformationMissing(t, run(transformations.slice(0, i), frames)));
  });
  const data = run(transformations, frames);
  for (const override of panel.fieldConfig.overrides) missing.push(...overrideMissing(override, data));
  const shown = grafana.applyFieldOverrides({
    data, fieldConfig: panel.fieldConfig, replaceVariables: (s) => s, theme,
    fieldConfigRegistry: grafana.fieldConfigRegistry(),
  });
  const unnamed = panel.type !== 'table' ? [] : shown.flatMap((frame) => frame.fields
    .filter((f) => /^Value( #\w+)?$/.test(grafana.getFieldDisplayName(f, frame, shown)))
    .map((f) => f.name));
  const found = [];
  const layers = panel.type === 'geomap' ? panel.options.layers : [];
  for (const layer of layers.filter((l) => l.type === 'markers')) {
    const result = markers(where, layer, shown);
    missing.push(...result.missing);
    found.push(...result.out);
  }
  return { report: { where, missing, unnamed,
                     fields: [...names(shown)] }, markers: found };
}

function main(input) {
  const { dashboards, answers } = JSON.parse(fs.readFileSync(input, 'utf8'));
  const report = { panels: [], markers: [], palette: {} };
  for (const name of PALETTE) report.palette[name] = theme.visualization.getColorByName(name);
  for (const [board, dashboard] of Object.entries(dashboards)) {
    for (const panel of dashboard.panels) {
      const where = `${board} / ${panel.title}`;
      const { report: one, markers: found } = checkPanel(where, panel, answers[board][panel.id]);
      report.panels.push(one);
      report.markers.push(...found);
    }
  }
  process.stdout.write(JSON.stringify(report));
}

if (require.main === module) {
  if (process.argv.length !== 3) {
    console.error('usage: node live.cjs INPUT.json');
    process.exit(2);
  }
  main(process.argv[2]);
}
