// What a netwatch dashboard may contain, in @grafana/schema's and @grafana/data's own types.
// typecheck.cjs writes one `<dashboard>.ts` per dashboard JSON next to this file (in memory)
// that checks every panel with `satisfies PanelOf<'<type>'>` and the whole with
// `satisfies DashboardModel`, plus `units.gen.ts` (Grafana's unit ids) and
// `transformers.gen.ts` (transformation id → the key of its info in standardTransformers).
import type {
  ColorDimensionConfig,
  Dashboard,
  FieldConfig,
  MapLayerOptions,
  MappingType,
  Panel,
  ResourceDimensionConfig,
  ScalarDimensionConfig,
  ScaleDimensionConfig,
  TextDimensionConfig,
} from '@grafana/schema';
import type {
  DataTransformerInfo,
  FieldMatcherID,
  FrameMatcherID,
  standardTransformers,
} from '@grafana/data';
import type * as bargauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen.js';
import type * as geomap from '@grafana/schema/dist/esm/raw/composable/geomap/panelcfg/x/GeomapPanelCfg_types.gen.js';
import type * as piechart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen.js';
import type * as stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen.js';
import type * as statetimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen.js';
import type * as table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen.js';
import type * as timeseries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.js';

import type { Unit } from './units.gen';
import type { TransformerKeys } from './transformers.gen';

/** JSON's view of a type: a string enum is the union of its values (JSON cannot name the
 *  enum), every property optional (Grafana fills a panel's defaults on load), nothing else
 *  loosened: unknown keys, wrong literals and wrong types still fail. */
export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]?: Json<T[K]> }
        : T;

/** Options of each transformation, by its id, from standardTransformers' own type. */
type TransformerOptions = {
  [Id in keyof TransformerKeys]: (typeof standardTransformers)[TransformerKeys[Id]] extends DataTransformerInfo<infer O>
    ? O
    : never;
};

type FrameMatcher = { id: `${FrameMatcherID}`; options: string };

export type Transformation = {
  [Id in keyof TransformerOptions]: {
    id: Id;
    options: Json<TransformerOptions[Id]>;
    filter?: FrameMatcher;
    disabled?: boolean;
  };
}[keyof TransformerOptions];

type NamedMatcher = 'byName' | 'byRegexp' | 'byFrameRefID' | 'byType';
type FieldMatcher =
  | { id: NamedMatcher; options: string }
  | { id: Exclude<`${FieldMatcherID}`, NamedMatcher>; options?: unknown };

/** The standard field options (the ones every panel has), as an override may set them. */
type Standard = Omit<FieldConfig, 'custom' | 'unit' | 'mappings'> & {
  unit: Unit;
  mappings: Mapping[];
};

type Mapping = Json<NonNullable<FieldConfig['mappings']>[number]> & { type: `${MappingType}` };

type Property<C> =
  | { [K in keyof Standard]-?: { id: K; value: Json<Standard[K]> } }[keyof Standard]
  | { [K in keyof C & string]-?: { id: `custom.${K}`; value: Json<C[K]> } }[keyof C & string];

type Defaults<C> = Json<Omit<FieldConfig, 'custom' | 'unit' | 'mappings'>> & {
  custom?: Json<C>;
  unit?: Unit;
  mappings?: Mapping[];
};

/** A Prometheus query as netwatch writes it. */
type PrometheusTarget = {
  datasource: { type: 'prometheus'; uid: string };
  refId: string;
  expr: string;
  range: boolean;
  instant: boolean;
  legendFormat: string;
  format?: 'time_series' | 'table' | 'heatmap';
};

type Common = Json<Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'transformations' | 'targets'>>;

type PanelWith<Type extends string, O, C> = Common & {
  type: Type;
  options?: Json<O>;
  fieldConfig?: { defaults: Defaults<C>; overrides: Array<{ matcher: FieldMatcher; properties: Array<Property<C>> }> };
  transformations?: Transformation[];
  targets?: PrometheusTarget[];
};

type NoCustom = Record<never, never>;

/** A geomap layer's style: @grafana/schema leaves a layer's config open, so it is written
 *  here from Grafana's StyleConfig (public/app/features/geo), each dimension in the
 *  schema's own type. */
type Style = {
  color?: ColorDimensionConfig;
  opacity?: number;
  lineWidth?: number;
  size?: ScaleDimensionConfig;
  symbol?: ResourceDimensionConfig;
  symbolAlign?: { horizontal?: 'left' | 'center' | 'right'; vertical?: 'top' | 'center' | 'bottom' };
  rotation?: ScalarDimensionConfig;
  text?: TextDimensionConfig;
};

type Layer<Type extends string, Config> = Omit<MapLayerOptions, 'type' | 'config' | 'filterData'> & {
  type: Type;
  filterData?: FrameMatcher;
  config?: Config;
};

/** A markers layer (Grafana's MarkersConfig). */
type MarkersLayer = Layer<'markers', { showLegend?: boolean; style?: Style }>;

/** A static GeoJSON layer (Grafana's GeoJSONMapperConfig): the county boundaries. */
type GeoJSONLayer = Layer<'geojson', {
  src?: string;
  rules?: Array<{
    style: Style;
    check: { property: string; operation: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte'; value: string | number };
  }>;
  style?: Style;
}>;

/** An XYZ tile server (Grafana's XYZConfig): `build.py --tile-url`. */
type XYZLayer = Layer<'xyz', { url?: string; attribution?: string; minZoom?: number; maxZoom?: number }>;

type GeomapOptions = Omit<geomap.Options, 'layers' | 'basemap'> & {
  basemap: GeoJSONLayer | XYZLayer;
  layers: Array<MarkersLayer | GeoJSONLayer>;
};

/** Every panel type netwatch uses, with its own Options and custom FieldConfig. */
export interface Panels {
  bargauge: PanelWith<'bargauge', bargauge.Options, NoCustom>;
  geomap: PanelWith<'geomap', GeomapOptions, NoCustom>;
  piechart: PanelWith<'piechart', piechart.Options, piechart.FieldConfig>;
  stat: PanelWith<'stat', stat.Options, NoCustom>;
  'state-timeline': PanelWith<'state-timeline', statetimeline.Options, statetimeline.FieldConfig>;
  table: PanelWith<'table', table.Options, table.FieldConfig>;
  timeseries: PanelWith<'timeseries', timeseries.Options, timeseries.FieldConfig>;
}

export type PanelOf<Type extends keyof Panels> = Panels[Type];

/** The dashboard model; its panels are checked one by one against PanelOf. */
export type DashboardModel = Json<Omit<Dashboard, 'panels'>> & { panels: Array<Panels[keyof Panels]> };
