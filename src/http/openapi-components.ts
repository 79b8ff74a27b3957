/**
 * Named schemas: every schema in a request or response body that has a `title` (set on the
 * TypeBox schema) becomes `#/components/schemas/<title>` and is referenced from where it was,
 * so that client generators give it a named type (`UsageSummary`, not an inline object).
 * Titles are names, so two different schemas may not share one.
 */

type Schema = Record<string, unknown>;
type Media = { schema?: Schema };
type Operation = {
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
};
type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

/** Keywords whose value is a schema or a list of schemas. */
const SCHEMA_KEYWORDS = [
  'items',
  'prefixItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
];
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs'];

export const SCHEMAS_PATH = '#/components/schemas/';

export function hoistTitledSchemas(document: object): void {
  const doc = document as Document;
  doc.components ??= {};
  doc.components.schemas ??= {};
  const components = doc.components.schemas;
  const hoist = (schema: Schema): Schema => {
    for (const keyword of SCHEMA_KEYWORDS) {
      const value = schema[keyword];
      if (Array.isArray(value)) schema[keyword] = value.map((item) => (isSchema(item) ? hoist(item) : item));
      else if (isSchema(value)) schema[keyword] = hoist(value);
    }
    for (const keyword of SCHEMA_MAP_KEYWORDS) {
      const map = schema[keyword];
      if (!isSchema(map)) continue;
      for (const [name, value] of Object.entries(map)) if (isSchema(value)) map[name] = hoist(value);
    }
    const title = schema.title;
    if (typeof title !== 'string') return schema;
    const known = components[title];
    if (known && JSON.stringify(known) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: two different schemas are titled ${JSON.stringify(title)}`);
    }
    components[title] = schema;
    return { $ref: `${SCHEMAS_PATH}${title}` };
  };
  for (const operation of Object.values(doc.paths ?? {}).flatMap((item) => Object.values(item))) {
    const bodies = [operation.requestBody, ...Object.values(operation.responses ?? {})];
    for (const media of bodies.flatMap((body) => Object.values(body?.content ?? {}))) {
      if (media.schema) media.schema = hoist(media.schema);
    }
  }
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
