'use strict';
// Prometheus API results framed as Grafana's Prometheus datasource hands them to a panel:
// the backend makes one frame per series (Time, Value with the series' labels, the legend
// as displayNameFromDS); the frontend's transformV2 (packages/grafana-prometheus/src/
// result_transformer.ts, transformDFToTable) then turns the frames of `format: table`
// targets into one table per refId: Time, one string column per label (sorted, '' where a
// series lacks it), and the value column, named `Value #<refId>` when more than one
// table query returned frames, else `Value`.
const { FieldType } = require('./grafana.cjs');

function legend(format, labels) {
  if (!format || format === '__auto') return undefined;
  return format.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, name) => labels[name] ?? '');
}

function sample(value) {
  if (/^[+-]?inf(inity)?$/i.test(value)) return value[0] === '-' ? -Infinity : Infinity;
  return parseFloat(value);
}

/** Backend frames of one target's API result ({resultType, result}). */
function backendFrames(target, answer) {
  return answer.result.map((series) => {
    const points = answer.resultType === 'matrix' ? series.values : [series.value];
    return {
      refId: target.refId,
      meta: { custom: { resultType: answer.resultType } },
      length: points.length,
      fields: [
        { name: 'Time', type: FieldType.time, config: {}, values: points.map((p) => p[0] * 1000) },
        { name: 'Value', type: FieldType.number, labels: { ...series.metric },
          config: { displayNameFromDS: legend(target.legendFormat, series.metric) },
          values: points.map((p) => sample(p[1])) },
      ],
    };
  });
}

function tables(frames) {
  const byRef = new Map();
  for (const frame of frames) byRef.set(frame.refId, [...(byRef.get(frame.refId) ?? []), frame]);
  return [...byRef].map(([refId, group]) => {
    const names = [];
    for (const frame of group) {
      for (const label of Object.keys(frame.fields[1].labels ?? {}).sort()) {
        if (!names.includes(label)) names.push(label);
      }
    }
    const time = { name: 'Time', type: FieldType.time, config: {}, values: [] };
    const labels = names.map((name) => ({ name, type: FieldType.string, config: { filterable: true },
                                          values: [] }));
    const value = { name: byRef.size > 1 ? `Value #${refId}` : 'Value', type: FieldType.number,
                    config: {}, values: [] };
    for (const frame of group) {
      time.values.push(...frame.fields[0].values);
      for (const v of frame.fields[1].values) {
        value.values.push(v);
        for (const field of labels) field.values.push(frame.fields[1].labels?.[field.name] ?? '');
      }
    }
    return { refId, meta: { ...group[0].meta, preferredVisualisationType: 'rawPrometheus' },
             fields: [time, ...labels, value], length: time.values.length };
  });
}

/** A panel's data: its targets' answers ({refId: answer}) framed as Grafana would. */
function panelFrames(panel, answers) {
  const table = [];
  const other = [];
  for (const target of panel.targets) {
    const frames = backendFrames(target, answers[target.refId]);
    (target.format === 'table' ? table : other).push(...frames);
  }
  return [...other, ...tables(table)];
}

module.exports = { panelFrames };
