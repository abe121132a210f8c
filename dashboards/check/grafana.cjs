'use strict';
// @grafana/data in node: its bundle reads `window` (feature toggles, scenes) at load time
// and `navigator` (the locale of date units).
globalThis.window ??= globalThis;
globalThis.navigator ??= { language: 'en-US', languages: ['en-US'] }; // node < 21 has none
const data = require('@grafana/data');

// Grafana's app registers the transformers at start-up; do as it does (once per id:
// seriesToColumnsTransformer is joinByField's deprecated second name).
data.standardTransformersRegistry.setInit(() => {
  const byId = new Map();
  for (const info of Object.values(data.standardTransformers)) {
    if (!byId.has(info.id)) byId.set(info.id, { ...info, transformation: info });
  }
  return [...byId.values()];
});

module.exports = data;

// The standard field options as Grafana's app registers them (public/app/core/components/
// OptionsUI/registry.tsx): without them applyFieldOverrides applies neither the defaults nor
// the overrides. Each uses @grafana/data's own override processor.
const STANDARD_OPTIONS = {
  unit: data.unitOverrideProcessor,
  min: data.numberOverrideProcessor,
  max: data.numberOverrideProcessor,
  decimals: data.numberOverrideProcessor,
  displayName: data.displayNameOverrideProcessor,
  description: data.stringOverrideProcessor,
  noValue: data.stringOverrideProcessor,
  color: data.identityOverrideProcessor,
  thresholds: data.thresholdsOverrideProcessor,
  mappings: data.valueMappingsOverrideProcessor,
  links: data.dataLinksOverrideProcessor,
  filterable: data.booleanOverrideProcessor,
};

function fieldConfigRegistry() {
  return new data.FieldConfigOptionsRegistry(() => Object.entries(STANDARD_OPTIONS).map(
    ([id, process]) => ({ id, path: id, name: id, process, shouldApply: () => true, override: null,
                          editor: null, settings: {} })));
}

module.exports.fieldConfigRegistry = fieldConfigRegistry;
